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
from config.client_time import ClientTimeOutOfRangeError, client_time_check
from config.ranges import POINTS_BALANCE
from members.exceptions import PointsError
from members.models import Member, OrgEntity
from members.services import (
    member_transaction_count_increment,
    points_balance_limit_error,
    points_earn_ctes,
    points_earn_many,
)
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
from webhooks.outbox import event_row_cte, events_emit, events_kick

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


def _awards_take(earned) -> list:
    """The awards a purchase may write: every earned one, but for an offer with a global fulfillment limit only if
    its limit had room (counted against it here, one statement, only when some earned offer has one)."""
    limited = [award.offer_id for award in earned if award.has_global_fulfillment_limit]
    if not limited:
        return list(earned)
    taken = _global_limits_take(offer_ids=limited, kind=OfferLimit.Kind.FULFILLMENT)
    return [award for award in earned if not award.has_global_fulfillment_limit or award.offer_id in taken]


def _member_lock(member: Member) -> int:
    """Serialize one member's activations and purchases, so per-member limits are read under a lock; returns
    the member's points balance as locked."""
    return Member.objects.select_for_update().filter(pk=member.pk).values_list("points_balance", flat=True).get()


_MEMBER_TABLE = Member._meta.db_table
_TRANSACTION_TABLE = Transaction._meta.db_table


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
                 "request_fingerprint", "response_body", "actor", "channel", "created_at")
)  # fmt: skip
_TRANSACTION_VALUES = (
    f"INSERT INTO {_TRANSACTION_TABLE} ({', '.join(field.column for field in _TRANSACTION_COLUMNS)}) "
    f"VALUES ({', '.join(['%s'] * len(_TRANSACTION_COLUMNS))}) ON CONFLICT DO NOTHING RETURNING id"
)
_FULFILLMENT_COLUMNS = ", ".join(
    Fulfillment._meta.get_field(name).column
    for name in ("offer", "member", "transaction", "points", "occurred_at", "created_at")
)
# A purchase's writes on PostgreSQL, in one statement: the transaction's row (with its answer, known before it is
# written: the balance is locked), and only if it was inserted, the fulfillments, the balance, its ledger lines
# and the member's purchase count (`members.services.points_earn_ctes`), and the event. Five statements each
# through the ORM cost more than the purchase's judging: most of a recording's time went to round trips.
_PURCHASE_WRITE = f"""WITH recorded AS ({_TRANSACTION_VALUES}),
fulfilled AS (
    INSERT INTO {Fulfillment._meta.db_table} ({_FULFILLMENT_COLUMNS})
    SELECT award.offer_id, %s, recorded.id, award.points, %s, %s
    FROM recorded, unnest(%s::bigint[], %s::bigint[]) WITH ORDINALITY AS award(offer_id, points, n)
    ORDER BY award.n RETURNING id),
{{points}},
{{event}}
SELECT recorded.id, (SELECT points_balance FROM moved) FROM recorded"""


class _RecordedMeanwhile(Exception):
    """The transaction id is recorded at the store already (or by a concurrent post that committed first): the
    purchase's insert wrote nothing, and what it did before (the limits' counts) is rolled back."""


def _purchase_write(*, values: dict, awarded: list, member: Member, event: dict, actor: Actor) -> int:
    """Write the purchase's row and, only if its id was not recorded meanwhile, its awards, points, purchase count
    and event; returns the row's id. The balance stays within its bound (`points_balance_limit`) or nothing is."""
    lines = [(award.points, f"Offer {award.external_id}") for award in awarded]
    now = values["created_at"]
    params = [field.get_db_prep_save(values[field.attname], connection) for field in _TRANSACTION_COLUMNS]
    if connection.vendor != "postgresql":
        return _purchase_write_plain(params=params, awarded=awarded, lines=lines, member=member, event=event,
                                     actor=actor, occurred_at=values["occurred_at"], now=now)  # fmt: skip
    points, points_params = points_earn_ctes(
        member_id=member.pk, lines=lines, actor=actor, reference=values["transaction_id"], created_at=now,
        count_purchase=True, gate=" AND EXISTS (SELECT 1 FROM recorded)",
    )  # fmt: skip
    emitted, event_params = event_row_cte(
        name="emitted", type=events.TRANSACTION_RECORDED, object_type="transaction", object_id_sql="recorded.id",
        source="recorded", data=event, at=now,
    )  # fmt: skip
    params += [member.pk, values["occurred_at"], now, [award.offer_id for award in awarded],
               [award.points for award in awarded], *points_params, *event_params]  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute(_PURCHASE_WRITE.format(points=points, event=emitted), params)
        row = cursor.fetchone()
    if row is None:
        raise _RecordedMeanwhile
    row_id, balance = row
    if balance is None:
        raise points_balance_limit_error()
    member.points_balance = balance
    events_kick()
    return row_id


def _purchase_write_plain(*, params, awarded, lines, member, event, actor, occurred_at, now) -> int:
    """`_purchase_write` where a statement cannot both insert and update (SQLite): one statement a kind of row."""
    with connection.cursor() as cursor:
        cursor.execute(_TRANSACTION_VALUES, params)
        row = cursor.fetchone()
    if row is None:
        raise _RecordedMeanwhile
    row_id = row[0]
    Fulfillment.objects.bulk_create(
        Fulfillment(offer_id=award.offer_id, member=member, transaction_id=row_id, points=award.points,
                    occurred_at=occurred_at, created_at=now)
        for award in awarded
    )  # fmt: skip
    if lines:
        points_earn_many(member=member, lines=lines, actor=actor, reference=event["transaction_id"],
                         count_purchase=True)  # fmt: skip
    else:
        member_transaction_count_increment(member=member)
    events_emit(type=events.TRANSACTION_RECORDED, object_type="transaction", object_id=row_id, data=event, at=now)
    return row_id


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
    for the same purchase returns the first body and created=False, awarding nothing; for another purchase
    it is refused with `transaction_id_reused`. `occurred_at` (default now) must lie in the window a
    client's time may (`config.client_time`); a repeat is answered before that check, as it changes nothing.

    Statements: the member locked with the rules' version, the member's counts for the offers whose award they
    can decide (none for most programs' offers), the limits' counts when an earned offer has a global one, and
    one write (`_purchase_write`). A repeat is found by that write: its row's insert, on the unique index of id
    and store, writes nothing (a concurrent post waits there for the first to commit); the work is rolled back
    and the first purchase's answer given. Repeats are rare (a till's retries), so a new purchase pays no read
    for them; a refusal (time window, balance bound) looks for a repeat first, which is answered instead.
    """
    fingerprint = _purchase_fingerprint(member=member, occurred_at=occurred_at, total_amount=total_amount, items=items)
    occurred_at = occurred_at or timezone.now()
    try:
        with transaction.atomic():
            balance, version = _member_lock_reading_rules_version(member)
            client_time_check(occurred_at, field="occurred_at")
            basket = tuple(
                rules.BasketItem(sku=i["sku"], quantity=i["quantity"], unit_price=Decimal(i["unit_price"]))
                for i in items
            )
            earned = selectors.membership_offers_earned(
                member=member, at=occurred_at, time_zone=store.time_zone, items=basket,
                total_amount=Decimal(total_amount), rules_version=version,
            )  # fmt: skip
            awarded = _awards_take(earned)
            # The answer is known before anything is written: the balance is locked, and moves by the awards.
            balance += sum(award.points for award in awarded)
            if awarded and balance > POINTS_BALANCE.max:
                raise points_balance_limit_error()
            awards = [{"offer_id": award.offer_id, "points": award.points} for award in awarded]
            body = {"transaction_id": transaction_id, "awards": awards, "points_balance": balance}
            event = {**body, "member_external_id": member.external_id, "store": store.code,
                     "total_amount": str(total_amount), "occurred_at": occurred_at.isoformat()}  # fmt: skip
            values = dict(
                transaction_id=transaction_id, member_id=member.pk, store_id=store.pk, occurred_at=occurred_at,
                total_amount=total_amount, items=[_item_record(i) for i in items], request_fingerprint=fingerprint,
                response_body=body, actor=actor.name, channel=actor.channel, created_at=timezone.now(),
            )  # fmt: skip
            _purchase_write(values=values, awarded=awarded, member=member, event=event, actor=actor)
    except _RecordedMeanwhile:  # rolled back, the limits' counts with it
        return _repeat_answer(transaction_id=transaction_id, store=store, fingerprint=fingerprint)
    except (ClientTimeOutOfRangeError, PointsError):
        if Transaction.objects.filter(transaction_id=transaction_id, store=store).exists():
            return _repeat_answer(transaction_id=transaction_id, store=store, fingerprint=fingerprint)
        raise
    return body, True


def _repeat_answer(*, transaction_id: str, store: OrgEntity, fingerprint: str) -> tuple[dict, bool]:
    """The first body for a repeat of the same purchase; `transaction_id_reused` for another purchase."""
    first = Transaction.objects.only("request_fingerprint", "response_body").get(
        transaction_id=transaction_id, store=store
    )
    if first.request_fingerprint and first.request_fingerprint != fingerprint:
        raise TransactionError(
            f"Transaction {transaction_id!r} is already recorded at store {store.code} for another purchase.",
            code=TRANSACTION_ID_REUSED,
            reasons=[TRANSACTION_ID_REUSED],
        )
    return first.response_body, False


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
