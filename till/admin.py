"""The till's admin screens, one module per sub-domain."""

from till.checkouts import admin as checkouts_admin  # noqa: F401
