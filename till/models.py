"""The till's cross-app records; each sub-domain keeps its models in its own package and they are gathered here."""

from till.offline.models import OfflineBatch, OfflineConflict  # noqa: F401
from till.returns.models import Return, ReturnLine  # noqa: F401
