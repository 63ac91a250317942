"""The one writer of an offer response's status, and its event.

The transition table is `rules.TRANSITIONS` (pure, with the offer-kind conditions); every status change,
whether a till completing a response, member care cancelling it, an activation clipping it or the expiry
sweep, goes through `offer_response_move` (one row) or `offer_responses_move` (a set), and each writes its
events with `offer_response_event`.
"""

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from config.actors import Actor
from config.errors import InvalidInputError
from config.status import status_move_many, status_swap
from offers.exceptions import OfferResponseError
from offers.models import OfferResponse, OfferResponseEvent
from offers.responses import rules
from webhooks import events
from webhooks.payloads import offer_responses_emit

REASON_LENGTH = OfferResponseEvent._meta.get_field("reason").max_length
STANDARD_FLOW = "standard"


def offer_response_event(
    response_id: int, *, from_status: str, to_status: str, actor: Actor, reason: str, at: datetime
) -> OfferResponseEvent:
    """One change of a response's status (`from_status` empty when it is created), not yet saved."""
    return OfferResponseEvent(
        response_id=response_id,
        from_status=from_status,
        to_status=to_status,
        actor=actor.name,
        channel=actor.channel,
        reason=reason[:REASON_LENGTH],
        at=at,
    )


def move_allowed(from_status: str, to_status: str, *, requires_activation: bool, snapshot: dict | None) -> bool:
    """The table's answer for one response, the offer's kind read from the response's own snapshot."""
    flow = (snapshot or {}).get("fulfillment_flow", STANDARD_FLOW)
    return rules.transition_allowed(
        from_status, to_status, requires_activation=requires_activation, fulfillment_flow=flow
    )


def transition_check(*, response: OfferResponse, to_status: str) -> None:
    """400 for a status that does not exist; 409 illegal_transition for a move the table refuses."""
    if to_status not in rules.STATUSES:
        raise InvalidInputError(f"Unknown status {to_status!r}.", errors={"status": [f"Unknown status {to_status!r}."]})
    allowed = move_allowed(
        response.status, to_status, requires_activation=response.requires_activation, snapshot=response.offer_snapshot
    )
    if not allowed:
        raise offer_response_illegal(response.status, to_status)


def offer_response_move(*, response: OfferResponse, to_status: str, actor: Actor, reason: str) -> OfferResponse:
    """Move one response from the status it was read with: of two concurrent callers only one changes the
    row; the other gets 409 illegal_transition with the status it found."""
    transition_check(response=response, to_status=to_status)
    from_status = response.status
    at = timezone.now()
    with transaction.atomic():
        moved = status_swap(
            rows=OfferResponse.objects.filter(pk=response.pk),
            old=from_status,
            to=to_status,
            changes={"status_changed_at": at},
            event=lambda: offer_response_event(
                response.pk, from_status=from_status, to_status=to_status, actor=actor, reason=reason, at=at
            ),
        )
        if moved:
            offer_responses_emit(type=events.OFFER_RESPONSE_STATUS_CHANGED, at=at, previous_status=from_status,
                                 queryset=OfferResponse.objects.filter(pk=response.pk))  # fmt: skip
    if not moved:
        current = OfferResponse.objects.filter(pk=response.pk).values_list("status", flat=True).first()
        raise offer_response_illegal(current or from_status, to_status)
    response.status, response.status_changed_at = to_status, at
    return response


def offer_responses_move(*, ids: list[int], to_status: str, actor: Actor, reason: str = "") -> int:
    """The set-based twin of offer_response_move, for sweeps, under the same table: the rows are locked
    (those another writer holds are skipped, the next sweep takes them), checked, and moved with one UPDATE
    per current status, each with its event row. Returns how many moved."""
    at = timezone.now()
    with transaction.atomic():
        moved = _move_many(ids=ids, to_status=to_status, actor=actor, reason=reason, at=at)
        moved_rows = OfferResponse.objects.filter(pk__in=ids, status=to_status, status_changed_at=at)
        offer_responses_emit(type=events.OFFER_RESPONSE_STATUS_CHANGED, queryset=moved_rows, at=at)
    return moved


def _move_many(*, ids, to_status, actor, reason, at) -> int:
    return status_move_many(
        rows=OfferResponse.objects.filter(pk__in=ids),
        to=to_status,
        columns=("requires_activation", "offer_snapshot"),
        allowed=lambda status, requires_activation, snapshot: move_allowed(
            status, to_status, requires_activation=requires_activation, snapshot=snapshot
        ),
        changes=lambda from_status: {"status_changed_at": at},
        event=lambda pk, from_status, *_: offer_response_event(
            pk, from_status=from_status, to_status=to_status, actor=actor, reason=reason, at=at
        ),
        skip_locked=True,
    )


def offer_response_illegal(from_status: str, to_status: str) -> OfferResponseError:
    return OfferResponseError(
        f"A response cannot move from {from_status} to {to_status}.",
        code="illegal_transition",
        reasons=["illegal_transition"],
        extra={"from_status": from_status, "to_status": to_status},
    )
