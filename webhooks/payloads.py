"""What each event says about its object, as expressions over the object's row, so a single object and a set of
them are written the same way (`outbox.events_emit_from_query`), by the database, in one statement."""

from django.db.models import BigIntegerField, F, OuterRef, Subquery, Value
from django.db.models.functions import Cast

from .events import COUPON_ISSUED, REWARD_AWARDED, REWARD_REDEEMED
from .models import Event
from .outbox import event_insert_cte, events_emit, events_emit_from_query, payload_expression

COUPON = "coupon"
OFFER_RESPONSE = "offer_response"


def coupon_data(**overrides) -> dict:
    """A coupon's payload: `overrides` replace fields the statement is changing (a CTE reads the row as it was)."""
    data = {
        "coupon_id": F("pk"),
        "code": F("code"),
        "status": F("status"),
        "series_id": F("series_id"),
        "member_external_id": F("member__external_id"),
        "issued_at": F("issued_at"),
        "expires_at": F("expires_at"),
    }
    data.update(_values(overrides))
    return data


def coupons_emit(*, type: str, queryset, at=None, **overrides) -> int:
    """One `type` event per coupon of `queryset`, in one INSERT … SELECT."""
    return events_emit_from_query(type=type, object_type=COUPON, queryset=queryset, data=coupon_data(**overrides),
                                  at=at)  # fmt: skip


def coupons_emit_thin(*, type: str, queryset, at=None) -> int:
    """One thin `type` event per coupon of `queryset`: the reference only, its payload built when first sent."""
    if type not in THIN_PAYLOADS:
        raise ValueError(f"{type} events carry their payload; only {sorted(THIN_PAYLOADS)} may be thin.")
    return events_emit_from_query(type=type, object_type=COUPON, queryset=queryset, data=None, at=at)


def coupon_emit(*, type: str, coupon_id: int, at=None, **overrides) -> int:
    from coupons.models import Coupon

    return coupons_emit(type=type, queryset=Coupon.objects.filter(pk=coupon_id), at=at, **overrides)


def coupons_event_cte(*, name: str, type: str, queryset, at=None, **overrides):
    """The coupon events as a CTE of a data-modifying statement (the till's redemption, the expiry sweep)."""
    return event_insert_cte(name=name, type=type, object_type=COUPON, queryset=queryset,
                            data=coupon_data(**overrides), at=at)  # fmt: skip


def offer_response_data(**overrides) -> dict:
    data = {
        "response_id": F("pk"),
        "offer_external_id": F("offer__external_id"),
        "member_external_id": F("member__external_id"),
        "status": F("status"),
        "source": F("source"),
        "certificate_code": F("certificate_code"),
        "status_changed_at": F("status_changed_at"),
    }
    data.update(_values(overrides))
    return data


def offer_responses_emit(*, type: str, queryset, at=None, **overrides) -> int:
    """One `type` event per offer response of `queryset`, in one INSERT … SELECT."""
    return events_emit_from_query(type=type, object_type=OFFER_RESPONSE, queryset=queryset,
                                  data=offer_response_data(**overrides), at=at)  # fmt: skip


def _coupon_issued_payload():
    from coupons.models import Coupon

    # The status is the event's, whatever the coupon's is by the time the event is sent.
    return Coupon.objects, coupon_data(status=Coupon.Status.ISSUED.value)


# Event types that may be written thin, and where their payload comes from when first sent.
THIN_PAYLOADS = {COUPON_ISSUED: _coupon_issued_payload}


def thin_payloads_fill(events: list[Event]) -> None:
    """Give each thin event its payload, built from its object's row and kept on the event, in one UPDATE per
    event type; the kept payload is read back, so an event filled meanwhile by another sender keeps its own."""
    thin = [event for event in events if event.data is None]
    if not thin:
        return
    for type in {event.type for event in thin}:
        objects, data = THIN_PAYLOADS[type]()
        of_the_event = objects.filter(pk=Cast(OuterRef("object_id"), output_field=BigIntegerField()))
        payload = Subquery(of_the_event.annotate(payload=payload_expression(data)).values("payload")[:1])
        ids = [event.pk for event in thin if event.type == type]
        Event.objects.filter(pk__in=ids, data__isnull=True).update(data=payload)
    kept = dict(Event.objects.filter(pk__in=[event.pk for event in thin]).values_list("pk", "data"))
    for event in thin:
        # An object that is gone is still announced, by its reference.
        event.data = kept.get(event.pk) or {f"{event.object_type}_id": event.object_id}


def _values(overrides: dict) -> dict:
    return {name: value if hasattr(value, "resolve_expression") else Value(value) for name, value in overrides.items()}


def reward_redemption_emit(*, redemption, code, at=None):
    """reward.redeemed or reward.awarded, once the redemption has its member (at once, or when assigned)."""
    from rewards.models import RewardRedemption

    awarded = redemption.kind == RewardRedemption.Kind.AWARD
    data = {
        "redemption_id": redemption.pk,
        "reward_id": redemption.reward_id,
        "kind": redemption.kind,
        "member_external_id": redemption.member.external_id,
        "certificate_code": code.code,
        "points_spent": redemption.points_spent,
    }
    return events_emit(type=REWARD_AWARDED if awarded else REWARD_REDEEMED, object_type="reward_redemption",
                       object_id=redemption.pk, data=data, at=at)  # fmt: skip
