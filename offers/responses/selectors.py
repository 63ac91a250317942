"""Reads for offer responses: lists with their offer and member in the same query, usable responses."""

from datetime import datetime

from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from members.models import Member
from offers.models import OfferResponse, OfferResponseEvent
from offers.responses import rules


def offer_response_queryset() -> QuerySet[OfferResponse]:
    return OfferResponse.objects.select_related("offer", "member").order_by("-created_at", "-id")


def offer_response_with_history_queryset() -> QuerySet[OfferResponse]:
    return offer_response_queryset().prefetch_related(
        Prefetch("events", queryset=OfferResponseEvent.objects.order_by("at", "id"))
    )


def usable_q(*, at: datetime) -> Q:
    """What a POS may apply now: pending (not opt-in) or clipped (opt-in), inside the usage period, not expired."""
    ready = Q(status=rules.CLIPPED, requires_activation=True) | Q(status=rules.PENDING, requires_activation=False)
    started = Q(usage_start__isnull=True) | Q(usage_start__lte=at)
    not_ended = Q(usage_end__isnull=True) | Q(usage_end__gt=at)
    not_expired = Q(expires_at__isnull=True) | Q(expires_at__gt=at)
    return ready & started & not_ended & not_expired


def usage_period_q(state: str, *, at: datetime) -> Q:
    """The SQL twin of rules.usage_period_state."""
    always = Q(usage_start__isnull=True, usage_end__isnull=True)
    passed = Q(usage_end__isnull=False, usage_end__lte=at)
    upcoming = Q(usage_start__isnull=False, usage_start__gt=at)
    if state == rules.USAGE_ALWAYS:
        return always
    if state == rules.USAGE_PASSED:
        return passed
    if state == rules.USAGE_UPCOMING:
        return ~passed & upcoming
    if state == rules.USAGE_ACTIVE:
        return ~always & ~passed & ~upcoming
    return Q(pk__in=[])


def member_offer_responses(*, member: Member, usable: bool | None = None, at: datetime | None = None):
    rows = offer_response_queryset().filter(member=member)
    if usable is not None:
        condition = usable_q(at=at or timezone.now())
        rows = rows.filter(condition) if usable else rows.exclude(condition)
    return rows


def offer_response_usage_state(response: OfferResponse, *, at: datetime | None = None) -> str:
    return rules.usage_period_state(response.usage_start, response.usage_end, at=at or timezone.now())


def offer_response_usage_active(response: OfferResponse, *, at: datetime | None = None) -> bool:
    return rules.usage_period_active(response.usage_start, response.usage_end, at=at or timezone.now())
