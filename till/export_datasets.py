"""The till's export datasets, registered by the sub-domain that owns each table."""

from till.offline import export_datasets as offline_export_datasets  # noqa: F401
