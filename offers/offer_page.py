"""What an offer's page shows beside its form: its coupon series with their issued and redeemed counters, and its
responses counted by status, in two queries whatever the offer's size."""

from dataclasses import dataclass

from django.db.models import Count

from coupons.models import CouponSeries
from offers.models import Offer, OfferResponse


@dataclass
class ResponseCount:
    status: str
    label: str
    count: int


def offer_series(*, offer: Offer) -> list[CouponSeries]:
    return list(
        CouponSeries.objects.filter(offer=offer)
        .only("name", "code_mode", "issued_count", "redeemed_count", "created_at")
        .order_by("-created_at", "-id")
    )


def offer_response_counts(*, offer: Offer) -> list[ResponseCount]:
    """Every status in the lifecycle's order, zero where the offer has none."""
    rows = OfferResponse.objects.filter(offer=offer).order_by().values("status").annotate(n=Count("id"))
    counts = {row["status"]: row["n"] for row in rows}
    return [ResponseCount(status, label, counts.get(status, 0)) for status, label in OfferResponse.Status.choices]
