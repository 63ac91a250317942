"""Writes for offer responses: claim, automatic assignment, clipping on activation, transitions asked for
by the API and the admin, and the expiry sweep; the status itself changes only in `lifecycle`."""

from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from config.actors import Actor
from config.errors import InvalidInputError
from members.models import Member
from offers import rules, selectors, services
from offers.exceptions import OfferResponseError
from offers.models import Activation, Offer, OfferResponse
from offers.responses import rules as response_rules
from offers.responses.lifecycle import (
    offer_response_event,
    offer_response_move,
    offer_responses_move,
    transition_check,
)
from webhooks import events
from webhooks.payloads import offer_responses_emit

ONE_OPEN_CONSTRAINT = "offers_offerresponse_one_open_per_member"
ACTIVATION_REASON = "offer activated"


def offer_snapshot(offer: Offer) -> dict:
    """The offer's details as the member got them; later set-up changes do not rewrite a response."""

    def iso(value):
        return value.isoformat() if value else None

    return {
        "external_id": offer.external_id,
        "name": offer.name,
        "category": offer.category,
        "publish_at": iso(offer.publish_at),
        "expire_at": iso(offer.expire_at),
        "usage_start": iso(offer.usage_start),
        "usage_end": iso(offer.usage_end),
        "requires_activation": offer.requires_activation,
        "allow_multiple_responses": offer.allow_multiple_responses,
        "fulfillment_flow": offer.fulfillment_flow,
    }


def member_lock(member: Member) -> None:
    """Serialize one member's claims, activations and purchases (the same lock the offer services take)."""
    Member.objects.select_for_update().filter(pk=member.pk).values_list("pk", flat=True).get()


def offer_response_claim(
    *, member: Member, offer: Offer, actor: Actor, source: str = OfferResponse.Source.CLAIM, certificate_code: str = ""
) -> OfferResponse:
    """The member claims the offer: it must be visible to them (409 offer_not_visible with the member's
    visible_status in reasons) and, unless the offer allows multiple responses, they must hold no open
    response to it yet (409 already_claimed)."""
    at = timezone.now()
    with transaction.atomic():
        member_lock(member)
        view = selectors.membership_offer_get(member=member, offer_id=offer.pk, at=at)
        if view.state.visible_status != rules.VISIBLE:
            raise OfferResponseError(
                f"The offer is not visible to this member ({view.state.visible_status}).",
                code="offer_not_visible",
                reasons=[view.state.visible_status],
            )
        return _response_create(
            member=member, offer=view.offer, actor=actor, source=source, at=at, code=certificate_code
        )


def offer_response_assign(
    *,
    member: Member,
    offer: Offer,
    actor: Actor,
    source: str = OfferResponse.Source.AUTOMATIC,
    certificate_code: str = "",
) -> OfferResponse:
    """Give the member a response without a claim (a triggered action, a reward). The offer's visibility
    is the caller's business; the one-open-response rule still holds (409 already_claimed)."""
    if source not in OfferResponse.Source.values:
        raise InvalidInputError(f"Unknown response source {source!r}.", errors={"source": ["Unknown source."]})
    with transaction.atomic():
        member_lock(member)
        return _response_create(
            member=member, offer=offer, actor=actor, source=source, at=timezone.now(), code=certificate_code
        )


def _response_create(*, member: Member, offer: Offer, actor: Actor, source: str, at: datetime, code: str):
    """Create one response; the caller holds the member's lock, so the open-response check cannot race."""
    if not offer.allow_multiple_responses and _open_responses(member=member, offer=offer).exists():
        raise _already_claimed()
    activated = offer.requires_activation and Activation.objects.filter(member=member, offer=offer).exists()
    status = response_rules.initial_status(requires_activation=offer.requires_activation, activated=activated)
    response = OfferResponse(
        member=member,
        offer=offer,
        status=status,
        source=source,
        offer_snapshot=offer_snapshot(offer),
        requires_activation=offer.requires_activation,
        one_open_only=not offer.allow_multiple_responses,
        usage_start=offer.usage_start,
        usage_end=offer.usage_end,
        certificate_code=code or "",
        expires_at=response_rules.response_expires_at(usage_end=offer.usage_end, expire_at=offer.expire_at),
        status_changed_at=at,
        created_at=at,
    )
    try:
        with transaction.atomic():
            response.save(force_insert=True)
    except IntegrityError as exc:  # the partial unique index, should a writer have bypassed the lock
        if ONE_OPEN_CONSTRAINT in str(exc):
            raise _already_claimed() from exc
        raise
    offer_response_event(
        response.pk, from_status="", to_status=status, actor=actor, reason=f"created ({source})", at=at
    ).save(force_insert=True)
    offer_responses_emit(type=events.OFFER_RESPONSE_CREATED, queryset=OfferResponse.objects.filter(pk=response.pk),
                         at=at)  # fmt: skip
    return response


def offer_response_clip_on_activation(
    *, member: Member, offer: Offer, actor: Actor, at: datetime, response: OfferResponse | None = None, reason: str = ""
) -> OfferResponse:
    """Called by offer_activate inside its transaction (member locked): the response the member clipped,
    else the member's oldest pending response, moves to clipped, or a clipped one is created when there
    is none."""
    reason = reason or ACTIVATION_REASON
    if response is not None:
        return offer_response_move(response=response, to_status=response_rules.CLIPPED, actor=actor, reason=reason)
    pending = _open_responses(member=member, offer=offer).filter(status=response_rules.PENDING).order_by("pk").first()
    if pending is not None:
        return offer_response_move(response=pending, to_status=response_rules.CLIPPED, actor=actor, reason=reason)
    if not offer.allow_multiple_responses and _open_responses(member=member, offer=offer).exists():
        return _open_responses(member=member, offer=offer).first()  # already clipped or further along
    return _response_create(
        member=member, offer=offer, actor=actor, source=OfferResponse.Source.ACTIVATION, at=at, code=""
    )


def offer_response_transition(
    *, response: OfferResponse, to_status: str, actor: Actor, reason: str = ""
) -> OfferResponse:
    """Move a response along the lifecycle. The move is checked against the transition table, then made
    with one conditional UPDATE on the status it was read with: of two concurrent callers only one
    changes the row; the other gets 409 illegal_transition.

    Clipping an opt-in response is activating the offer for the member (seed 000: one act), so it goes
    through offer_activate: its visibility and activation limits apply, and a refused activation
    refuses the clip with the same code and reasons. An offer changed since to need no activation has
    nothing to activate; its response simply moves."""
    transition_check(response=response, to_status=to_status)
    if to_status == response_rules.CLIPPED and response.offer.requires_activation:
        services.offer_activate(
            member=response.member, offer=response.offer, actor=actor, response=response, reason=reason
        )
        return response
    return offer_response_move(response=response, to_status=to_status, actor=actor, reason=reason)


def _open_responses(*, member: Member, offer: Offer):
    return OfferResponse.objects.filter(member=member, offer=offer, status__in=response_rules.OPEN)


def _already_claimed() -> OfferResponseError:
    return OfferResponseError(
        "The member already holds an open response to this offer, which allows only one.",
        code="already_claimed",
        reasons=["already_claimed"],
    )


# Expiry sweep ---------------------------------------------------------------------------------------

EXPIRY_REASON = "expiry date passed"


def offer_responses_expire_due(*, actor: Actor, at: datetime | None = None, batch_size: int = 1000) -> int:
    """Expire every open response whose `expires_at` has passed, in short batches (keyset on id, so a
    retried or concurrent sweep never redoes a batch's work); returns how many it expired."""
    at = at or timezone.now()
    expired, last_pk = 0, 0
    while True:
        ids = list(
            OfferResponse.objects.filter(pk__gt=last_pk, status__in=response_rules.OPEN, expires_at__lte=at)
            .order_by("pk")
            .values_list("pk", flat=True)[:batch_size]
        )
        if not ids:
            return expired
        last_pk = ids[-1]
        expired += offer_responses_move(ids=ids, to_status=response_rules.EXPIRED, actor=actor, reason=EXPIRY_REASON)
