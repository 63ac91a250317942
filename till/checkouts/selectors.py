"""Reads for checkouts: what other checkouts hold, a checkout with its holds, the open holds."""

from django.db.models import QuerySet
from django.utils import timezone

from till.checkouts.models import Checkout, CheckoutHold


def offer_responses_held(*, ids, other_than: int | None) -> set[int]:
    """Of these offer responses, the ones a live hold of another checkout keeps (a lapsed hold does not count)."""
    holds = CheckoutHold.objects.filter(
        offer_response_id__in=list(ids),
        released_at__isnull=True,
        checkout__status=Checkout.Status.HELD,
        checkout__expires_at__gt=timezone.now(),
    )
    if other_than is not None:
        holds = holds.exclude(checkout_id=other_than)
    return set(holds.values_list("offer_response_id", flat=True))


def checkout_queryset() -> QuerySet[Checkout]:
    return Checkout.objects.select_related("member", "store")


def checkout_for_update(*, pk: int) -> Checkout:
    """The checkout's row, locked: its commit, cancel and expiry queue here."""
    return Checkout.objects.select_for_update(of=("self",)).select_related("member", "store").get(pk=pk)


def checkouts_due_for_expiry(*, now=None) -> QuerySet[Checkout]:
    return Checkout.objects.filter(status=Checkout.Status.HELD, expires_at__lte=now or timezone.now())
