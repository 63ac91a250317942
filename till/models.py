"""The till's cross-app records; each sub-domain keeps its models in its own package and they are gathered here."""

from till.checkouts.models import Checkout, CheckoutEvent, CheckoutHold
from till.offline.models import OfflineBatch, OfflineConflict
from till.returns.models import Return, ReturnLine

__all__ = ["Checkout", "CheckoutEvent", "CheckoutHold", "OfflineBatch", "OfflineConflict", "Return", "ReturnLine"]
