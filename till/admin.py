"""The till's admin screens, registered by each sub-domain."""

from till.checkouts import admin as checkouts_admin  # noqa: F401
from till.offline import admin as offline_admin  # noqa: F401
from till.returns import admin as returns_admin  # noqa: F401
