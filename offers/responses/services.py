"""Writes for offer responses: claim, automatic assignment, clipping on activation, and the one
transition function every status change goes through (API, admin, tasks)."""

from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from config.actors import Actor
from config.errors import InvalidInputError
from members.models import Member
from offers import rules, selectors, services
from offers.exceptions import OfferResponseError
from offers.models import Activation, Offer, OfferResponse, OfferResponseEvent
from offers.responses import rules as response_rules

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
    _event(response, from_status="", to_status=status, actor=actor, reason=f"created ({source})", at=at)
    return response


def offer_response_clip_on_activation(
    *, member: Member, offer: Offer, actor: Actor, at: datetime, response: OfferResponse | None = None, reason: str = ""
) -> OfferResponse:
    """Called by offer_activate inside its transaction (member locked): the response the member clipped,
    else the member's oldest pending response, moves to clipped, or a clipped one is created when there
    is none."""
    reason = reason or ACTIVATION_REASON
    if response is not None:
        return _status_move(response=response, to_status=response_rules.CLIPPED, actor=actor, reason=reason)
    pending = _open_responses(member=member, offer=offer).filter(status=response_rules.PENDING).order_by("pk").first()
    if pending is not None:
        return _status_move(response=pending, to_status=response_rules.CLIPPED, actor=actor, reason=reason)
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
    _transition_check(response=response, to_status=to_status)
    if to_status == response_rules.CLIPPED and response.offer.requires_activation:
        services.offer_activate(
            member=response.member, offer=response.offer, actor=actor, response=response, reason=reason
        )
        return response
    return _status_move(response=response, to_status=to_status, actor=actor, reason=reason)


def _transition_check(*, response: OfferResponse, to_status: str) -> None:
    if to_status not in response_rules.STATUSES:
        raise InvalidInputError(f"Unknown status {to_status!r}.", errors={"status": [f"Unknown status {to_status!r}."]})
    snapshot = response.offer_snapshot or {}
    allowed = response_rules.transition_allowed(
        response.status,
        to_status,
        requires_activation=response.requires_activation,
        fulfillment_flow=snapshot.get("fulfillment_flow", "standard"),
    )
    if not allowed:
        raise _illegal(response.status, to_status)


def _status_move(*, response: OfferResponse, to_status: str, actor: Actor, reason: str) -> OfferResponse:
    _transition_check(response=response, to_status=to_status)
    from_status = response.status
    at = timezone.now()
    with transaction.atomic():
        changed = OfferResponse.objects.filter(pk=response.pk, status=from_status).update(
            status=to_status, status_changed_at=at
        )
        if not changed:
            current = OfferResponse.objects.filter(pk=response.pk).values_list("status", flat=True).first()
            raise _illegal(current or from_status, to_status)
        _event(response, from_status=from_status, to_status=to_status, actor=actor, reason=reason, at=at)
    response.status, response.status_changed_at = to_status, at
    return response


def _open_responses(*, member: Member, offer: Offer):
    return OfferResponse.objects.filter(member=member, offer=offer, status__in=response_rules.OPEN)


def _event(response, *, from_status, to_status, actor: Actor, reason: str, at: datetime) -> None:
    OfferResponseEvent.objects.create(
        response=response,
        from_status=from_status,
        to_status=to_status,
        actor=actor.name,
        channel=actor.channel,
        reason=reason[:255],
        at=at,
    )


def _already_claimed() -> OfferResponseError:
    return OfferResponseError(
        "The member already holds an open response to this offer, which allows only one.",
        code="already_claimed",
        reasons=["already_claimed"],
    )


def _illegal(from_status: str, to_status: str) -> OfferResponseError:
    return OfferResponseError(
        f"A response cannot move from {from_status} to {to_status}.",
        code="illegal_transition",
        reasons=["illegal_transition"],
        extra={"from_status": from_status, "to_status": to_status},
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
        expired += offer_responses_transition_many(
            ids=ids, to_status=response_rules.EXPIRED, actor=actor, reason=EXPIRY_REASON
        )


def offer_responses_transition_many(*, ids: list[int], to_status: str, actor: Actor, reason: str = "") -> int:
    """The set-based twin of offer_response_transition for sweeps, under the same transition table: the
    rows are locked (those another writer holds are skipped, the next sweep takes them), checked, and
    moved with one UPDATE per current status, each with its event row. Returns how many moved."""
    at = timezone.now()
    moved = 0
    with transaction.atomic():
        rows = (
            OfferResponse.objects.select_for_update(skip_locked=True)
            .filter(pk__in=ids)
            .order_by("pk")
            .values_list("pk", "status", "requires_activation", "offer_snapshot")
        )
        groups: dict[str, list[int]] = {}
        for pk, status, requires_activation, snapshot in rows:
            flow = (snapshot or {}).get("fulfillment_flow", "standard")
            if response_rules.transition_allowed(
                status, to_status, requires_activation=requires_activation, fulfillment_flow=flow
            ):
                groups.setdefault(status, []).append(pk)
        events = []
        for from_status, pks in groups.items():
            moved += OfferResponse.objects.filter(pk__in=pks, status=from_status).update(
                status=to_status, status_changed_at=at
            )
            events.extend(
                OfferResponseEvent(
                    response_id=pk,
                    from_status=from_status,
                    to_status=to_status,
                    actor=actor.name,
                    channel=actor.channel,
                    reason=reason[:255],
                    at=at,
                )
                for pk in pks
            )
        OfferResponseEvent.objects.bulk_create(events)
    return moved
