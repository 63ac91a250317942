"""Writes for offers: set-up (create, update, discontinue), activation and earning."""

import hashlib
import json
from datetime import UTC, datetime
from decimal import Decimal

from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from audit.services import audit_created, audit_updated
from config.actors import Actor
from config.client_time import client_time_check
from members.models import Member, OrgEntity
from members.services import member_transaction_count_increment, points_earn_many
from offers import rules, rules_index, selectors
from offers.exceptions import TRANSACTION_ID_REUSED, ActivationError, OfferError, TransactionError
from offers.models import (
    Activation,
    Audience,
    EarningMechanism,
    Fulfillment,
    MarketingContent,
    Offer,
    OfferEvent,
    OfferLimit,
    Transaction,
)
from webhooks import events
from webhooks.outbox import events_emit

OFFER_FIELDS = (
    "external_id",
    "name",
    "category",
    "publish_at",
    "expire_at",
    "usage_start",
    "usage_end",
    "requires_activation",
    "allow_multiple_responses",
    "fulfillment_flow",
)
COMPONENTS = ("earning_mechanism", "audiences", "limits", "marketing_contents")


# Set-up ---------------------------------------------------------------------------------------------


def offer_create(*, actor: Actor, **data) -> Offer:
    offer = Offer(**{name: data[name] for name in OFFER_FIELDS if name in data})
    offer.full_clean(validate_unique=False, validate_constraints=False)
    try:
        with transaction.atomic():
            offer.save()
            _components_replace(offer=offer, data=data)
            _event(offer, OfferEvent.Kind.CREATED, actor)
            audit_created(actor=actor, obj=offer, after=selectors.offer_audit_snapshot(offer_id=offer.pk))
    except IntegrityError as exc:
        raise _integrity_error(exc, offer) from exc
    return offer


def offer_update(*, offer: Offer, actor: Actor, **data) -> Offer:
    """Change the given fields; a component list sent replaces the offer's list of that component."""
    before = selectors.offer_audit_snapshot(offer_id=offer.pk)
    for name in OFFER_FIELDS:
        if name in data:
            setattr(offer, name, data[name])
    offer.full_clean(validate_unique=False, validate_constraints=False)
    try:
        with transaction.atomic():
            offer.save()
            _components_replace(offer=offer, data=data)
            _event(offer, OfferEvent.Kind.UPDATED, actor)
            _audit_updated(offer=offer, before=before, actor=actor)
    except IntegrityError as exc:
        raise _integrity_error(exc, offer) from exc
    return offer


def offer_discontinue(*, offer: Offer, actor: Actor, at: datetime | None = None) -> Offer:
    """Discontinue the offer; discontinuing it again changes nothing."""
    with transaction.atomic():
        changed = Offer.objects.filter(pk=offer.pk, discontinued_at__isnull=True).update(
            discontinued_at=at or timezone.now()
        )
        if changed:
            _event(offer, OfferEvent.Kind.DISCONTINUED, actor)
    offer.refresh_from_db(fields=["discontinued_at", "updated_at"])
    return offer


def offer_limit_counters_refresh(*, offer: Offer) -> None:
    """Bring each global limit's running total in line with the rows it counts (after a set-up change).

    The limit rows are locked first, so an award or activation racing with the change waits for it.
    """
    with transaction.atomic():
        limits = list(
            OfferLimit.objects.select_for_update().filter(offer=offer, scope=OfferLimit.Scope.GLOBAL).order_by("pk")
        )
        for limit in limits:
            rows = offer.fulfillments if limit.kind == OfferLimit.Kind.FULFILLMENT else offer.activations
            used = rows.count()
            if used != limit.used_count:
                OfferLimit.objects.filter(pk=limit.pk).update(used_count=used)


def _components_replace(*, offer: Offer, data: dict) -> None:
    if "earning_mechanism" in data:
        EarningMechanism.objects.filter(offer=offer).delete()
        if data["earning_mechanism"]:
            EarningMechanism.objects.create(offer=offer, **data["earning_mechanism"])
    if "audiences" in data:
        offer.audiences.all().delete()
        Audience.objects.bulk_create(Audience(offer=offer, **row) for row in data["audiences"])
    if "limits" in data:
        offer.limits.all().delete()
        OfferLimit.objects.bulk_create(OfferLimit(offer=offer, **row) for row in data["limits"])
        offer_limit_counters_refresh(offer=offer)
    if "marketing_contents" in data:
        offer.marketing_contents.all().delete()
        MarketingContent.objects.bulk_create(MarketingContent(offer=offer, **row) for row in data["marketing_contents"])


def _integrity_error(exc: IntegrityError, offer: Offer) -> OfferError:
    text = str(exc)
    if "external_id" in text:
        return OfferError(f"An offer with external id {offer.external_id!r} exists already.", code="offer_exists")
    if "one_per_scope_kind" in text:
        return OfferError("Only one limit per scope and kind.", code="invalid", http_status=400)
    if "one_per_locale" in text:
        return OfferError("Only one marketing content per locale.", code="invalid", http_status=400)
    return OfferError("The offer breaks a data rule.", code="invalid", http_status=400, extra={"detail_db": text})


def _event(offer: Offer, kind: str, actor: Actor) -> None:
    OfferEvent.objects.create(offer=offer, kind=kind, actor=actor.name, channel=actor.channel)


# Limits ---------------------------------------------------------------------------------------------


def _global_limit_take(*, offer_id: int, kind: str, exists: bool | None = None) -> bool:
    """Count one against the offer's global limit of this kind, if any. False when it is reached.

    One conditional UPDATE: concurrent callers queue on the row and each re-checks `used < max`.
    `exists`, when the caller knows whether the offer has such a limit (the rules index), saves a read.
    """
    if exists is False:
        return True
    limits = OfferLimit.objects.filter(offer_id=offer_id, scope=OfferLimit.Scope.GLOBAL, kind=kind)
    if limits.filter(used_count__lt=F("max_count")).update(used_count=F("used_count") + 1):
        return True
    return not exists and not limits.exists()


_LIMIT_TABLE = OfferLimit._meta.db_table


def _global_limits_take(*, offer_ids: list[int], kind: str) -> set[int]:
    """Count one against the global limit of this kind of each of these offers, in one statement; returns the
    offers whose limit had room.

    The rows are locked in offer id order (as `_global_limit_take` one by one would), so purchases sharing
    offers never wait on each other in a circle, and each row's `used < max` is checked again once its lock
    is granted: concurrent purchases never count past a limit.
    """
    if not offer_ids:
        return set()
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    marks = ", ".join(["%s"] * len(offer_ids))
    sql = f"""UPDATE {_LIMIT_TABLE} SET used_count = used_count + 1 WHERE id IN (
        SELECT id FROM {_LIMIT_TABLE} WHERE offer_id IN ({marks}) AND scope = %s AND kind = %s
        AND used_count < max_count ORDER BY offer_id{lock}) RETURNING offer_id"""
    with connection.cursor() as cursor:
        cursor.execute(sql, [*offer_ids, OfferLimit.Scope.GLOBAL, kind])
        return {offer_id for (offer_id,) in cursor.fetchall()}


def _awards_write(*, earned, member: Member, row_id: int, reference: str, occurred_at, actor: Actor) -> list:
    """Write what a purchase earns, one statement per kind of row: the global limits' counts (for the offers
    that have one; an offer whose limit is reached awards nothing), the fulfillments, the points (balance and
    ledger lines). Returns the awards written, in offer id order."""
    limited = [award.offer_id for award in earned if award.has_global_fulfillment_limit]
    taken = _global_limits_take(offer_ids=limited, kind=OfferLimit.Kind.FULFILLMENT)
    awarded = [award for award in earned if not award.has_global_fulfillment_limit or award.offer_id in taken]
    if not awarded:
        return []
    Fulfillment.objects.bulk_create(
        Fulfillment(offer_id=award.offer_id, member=member, transaction_id=row_id, points=award.points,
                    occurred_at=occurred_at)
        for award in awarded
    )  # fmt: skip
    points_earn_many(
        member=member,
        lines=[(award.points, f"Offer {award.external_id}") for award in awarded],
        actor=actor,
        reference=reference,
    )
    return awarded


def _member_lock(member: Member) -> int:
    """Serialize one member's activations and purchases, so per-member limits are read under a lock; returns
    the member's points balance as locked."""
    return Member.objects.select_for_update().filter(pk=member.pk).values_list("points_balance", flat=True).get()


_MEMBER_TABLE = Member._meta.db_table


def _member_lock_reading_rules_version(member: Member) -> tuple[int, int | None]:
    """`_member_lock` and the offer rules' version (`rules_index.VERSION_SUBQUERY`) in the one statement: the
    member's points balance as locked, and the version the purchase's index must have."""
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT points_balance, {rules_index.VERSION_SUBQUERY} FROM {_MEMBER_TABLE} WHERE id = %s{lock}",
            [member.pk],
        )
        balance, version = cursor.fetchone()
    return balance, version


_TRANSACTION_COLUMNS = tuple(
    Transaction._meta.get_field(name)
    for name in ("transaction_id", "member", "store", "occurred_at", "total_amount", "items",
                 "request_fingerprint", "actor", "channel", "created_at")
)  # fmt: skip
_TRANSACTION_INSERT = (
    f"INSERT INTO {Transaction._meta.db_table} ({', '.join(field.column for field in _TRANSACTION_COLUMNS)}) "
    f"VALUES ({', '.join(['%s'] * len(_TRANSACTION_COLUMNS))}) ON CONFLICT DO NOTHING RETURNING id"
)


def _transaction_insert(**values) -> int | None:
    """Insert the purchase's row, values converted as the ORM converts them; None when its id is recorded at its
    store already. One statement, no savepoint: a concurrent insert of the same id waits for the first to
    commit and then inserts nothing, as the unique index decides."""
    params = [field.get_db_prep_save(values[field.attname], connection) for field in _TRANSACTION_COLUMNS]
    with connection.cursor() as cursor:
        cursor.execute(_TRANSACTION_INSERT, params)
        row = cursor.fetchone()
    return None if row is None else row[0]


# Activation -----------------------------------------------------------------------------------------


def offer_activate(
    *,
    member: Member,
    offer: Offer,
    actor: Actor,
    at: datetime | None = None,
    response=None,
    reason: str = "",
):
    """Activate an opt-in offer for a member; activating again returns the same state, unchanged.

    Returns the membership-offer after activation. Offer responses hook their clipping in here, in
    the same transaction, so activation and clipping stay one act. `response` names the pending
    response to clip when the member clips it (the same act, started from the response): the
    activation's visibility and limits decide, and its refusal is the clip's.
    """
    at = at or timezone.now()
    if not offer.requires_activation:
        raise ActivationError(
            "This offer does not require activation.",
            code="activation_not_required",
            reasons=["activation_not_required"],
        )
    with transaction.atomic():
        _member_lock(member)
        activated = Activation.objects.filter(offer=offer, member=member).exists()
        if not activated:
            view = selectors.membership_offer_get(member=member, offer_id=offer.pk, at=at)
            if view.state.visible_status != rules.VISIBLE:
                raise _not_visible(view.state.visible_status)
            if not _global_limit_take(offer_id=offer.pk, kind=OfferLimit.Kind.ACTIVATION):
                raise _not_visible(rules.GLOBAL_LIMIT)
            Activation.objects.create(
                offer=offer, member=member, activated_at=at, actor=actor.name, channel=actor.channel
            )
        if not activated or response is not None:
            from offers.responses.services import offer_response_clip_on_activation

            offer_response_clip_on_activation(
                member=member, offer=offer, actor=actor, at=at, response=response, reason=reason
            )
    return selectors.membership_offer_get(member=member, offer_id=offer.pk, at=at)


def _not_visible(status: str) -> ActivationError:
    return ActivationError(
        f"The offer is not visible to this member ({status}).", code="offer_not_visible", reasons=[status]
    )


# Earning --------------------------------------------------------------------------------------------


def transaction_record(
    *,
    transaction_id: str,
    member: Member,
    store: OrgEntity,
    occurred_at: datetime | None = None,
    total_amount: Decimal,
    items: list[dict],
    actor: Actor,
) -> tuple[dict, bool]:
    """Record a purchase and award every offer visible and eligible to the member at `occurred_at`.

    Returns (body, created). A transaction id names one purchase per store: the same id at the same store
    for the same purchase returns the first body and created=False, awarding nothing (the unique index on
    id and store makes a concurrent repeat wait for the first and then find its row); for another purchase
    it is refused with `transaction_id_reused`. `occurred_at` (default now) must lie in the window a
    client's time may (`config.client_time`); a repeat is answered before that check, as it changes nothing.
    """
    fingerprint = _purchase_fingerprint(member=member, occurred_at=occurred_at, total_amount=total_amount, items=items)
    occurred_at = occurred_at or timezone.now()
    with transaction.atomic():
        row_id = _transaction_insert(
            transaction_id=transaction_id, member_id=member.pk, store_id=store.pk, occurred_at=occurred_at,
            total_amount=total_amount, items=[_item_record(i) for i in items], request_fingerprint=fingerprint,
            actor=actor.name, channel=actor.channel, created_at=timezone.now(),
        )  # fmt: skip
        if row_id is None:
            first = Transaction.objects.get(transaction_id=transaction_id, store=store)
            if first.request_fingerprint and first.request_fingerprint != fingerprint:
                raise TransactionError(
                    f"Transaction {transaction_id!r} is already recorded at store {store.code} for another purchase.",
                    code=TRANSACTION_ID_REUSED,
                    reasons=[TRANSACTION_ID_REUSED],
                )
            return first.response_body, False
        client_time_check(occurred_at, field="occurred_at")

        balance, version = _member_lock_reading_rules_version(member)
        basket = tuple(
            rules.BasketItem(sku=i["sku"], quantity=i["quantity"], unit_price=Decimal(i["unit_price"])) for i in items
        )
        earned = selectors.membership_offers_earned(
            member=member, at=occurred_at, time_zone=store.time_zone, items=basket, total_amount=Decimal(total_amount),
            rules_version=version,
        )  # fmt: skip
        awarded = _awards_write(
            earned=earned, member=member, row_id=row_id, reference=transaction_id, occurred_at=occurred_at, actor=actor
        )
        if awarded:
            balance = member.points_balance
        awards = [{"offer_id": award.offer_id, "points": award.points} for award in awarded]
        member_transaction_count_increment(member=member)
        body = {"transaction_id": transaction_id, "awards": awards, "points_balance": balance}
        Transaction.objects.filter(pk=row_id).update(response_body=body)
        events_emit(type=events.TRANSACTION_RECORDED, object_type="transaction", object_id=row_id,
                    data={**body, "member_external_id": member.external_id, "store": store.code,
                          "total_amount": str(total_amount), "occurred_at": occurred_at.isoformat()})  # fmt: skip
    return body, True


# What a till's checkout adds to a line (`till.checkouts`): its reference, its discount and the points it earned.
LINE_DETAILS = ("line_ref", "discount_amount", "points")


def _item_record(item: dict) -> dict:
    record = {"sku": item["sku"], "quantity": item["quantity"], "unit_price": str(item["unit_price"])}
    record.update({name: item[name] for name in LINE_DETAILS if name in item})
    return record


def _purchase_fingerprint(*, member: Member, occurred_at: datetime | None, total_amount, items: list[dict]) -> str:
    """What makes two posts of one transaction id the same purchase: the member, the time as stated (an instant,
    or none when the server's clock chose it), the total and the lines in any order, amounts by value."""
    purchase = {
        "member": member.pk,
        "occurred_at": occurred_at.astimezone(UTC).isoformat() if occurred_at else None,
        "total_amount": _amount_text(total_amount),
        "items": sorted([i["sku"], int(i["quantity"]), _amount_text(i["unit_price"])] for i in items),
    }
    return hashlib.sha256(json.dumps(purchase, separators=(",", ":")).encode()).hexdigest()


def _amount_text(value) -> str:
    return format(Decimal(value).normalize(), "f")


def offer_admin_saved(*, offer: Offer, before: dict | None, actor: Actor) -> None:
    """After the admin form and its inlines are saved: realign limit counters and write the audit rows.

    `before` is offer_audit_snapshot() taken before the form saved anything (None for a new offer).
    """
    offer_limit_counters_refresh(offer=offer)
    _event(offer, OfferEvent.Kind.CREATED if before is None else OfferEvent.Kind.UPDATED, actor)
    if before is None:
        audit_created(actor=actor, obj=offer, after=selectors.offer_audit_snapshot(offer_id=offer.pk))
    else:
        _audit_updated(offer=offer, before=before, actor=actor)


def _audit_updated(*, offer: Offer, before: dict, actor: Actor) -> None:
    audit_updated(actor=actor, obj=offer, before=before, after=selectors.offer_audit_snapshot(offer_id=offer.pk))
