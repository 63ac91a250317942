"""The four kinds of offer the response lifecycle tells apart, and a response of each kind in any status."""

from offers.models import OfferResponse
from tests.offers.factories import OfferFactory, OfferResponseFactory

KINDS = {
    "standard": {"requires_activation": False, "fulfillment_flow": "standard"},
    "opt_in": {"requires_activation": True, "fulfillment_flow": "standard"},
    "shipping": {"requires_activation": False, "fulfillment_flow": "shipping"},
    "opt_in_shipping": {"requires_activation": True, "fulfillment_flow": "shipping"},
}


def response_of_kind(kind: str, status: str) -> OfferResponse:
    """A response written straight in `status`, as if it had got there, with the kind in its snapshot."""
    offer = OfferFactory(**KINDS[kind])
    return OfferResponseFactory(
        offer=offer,
        status=status,
        requires_activation=offer.requires_activation,
        offer_snapshot={"fulfillment_flow": offer.fulfillment_flow},
    )
