"""A till's checkout, two-phase: open (price the basket and hold what it uses), then commit or cancel.

Opening holds each applying once-only coupon with one conditional UPDATE (`coupons.redemption.holds`) and
each applying offer response with a hold row (one per response while open, a partial unique index). A hold
lost to a concurrent checkout rolls the opening back and prices the basket again, which then sees the hold
and answers `held_by_another_checkout` for that coupon; so of many checkouts racing for one coupon, one
holds it and the others open without it.

Committing takes the checkout's row lock (cancel and the sweep take it too, so one of them wins), then, in
one transaction, redeems the held coupons through the coupons redemption service (same rules, reasons and
`coupon.redeemed` events as `POST /coupons/redeem`), completes the held offer responses, records the
purchase as `POST /transactions` does, and stores the answer that a repeat replays.
"""

from datetime import timedelta
from decimal import Decimal
from functools import cache

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from config.actors import Actor
from config.api import idempotency
from config.rawrows import ModelColumns
from coupons.redemption import holds as coupon_holds
from coupons.redemption import services as redemption
from members.models import Member, OrgEntity
from offers import services as offer_services
from offers.models import OfferResponse
from offers.responses import rules as response_rules
from offers.responses import services as response_services
from till.baskets.selectors import BasketLine, basket_evaluate
from till.checkouts import lifecycle, selectors
from till.checkouts.exceptions import CheckoutError, CheckoutTransitionError, HoldExpiredError
from till.checkouts.models import Checkout, CheckoutHold

Status = Checkout.Status
HOLD_EXPIRED = "hold_expired"
TRANSACTION_ID_IN_USE = "transaction_id_in_use"
OPEN_ATTEMPTS = 3


class _HoldLost(Exception):
    """Another checkout took a hold between this one's pricing and its hold."""


def checkout_open(
    *,
    member: Member,
    store: OrgEntity,
    transaction_id: str,
    lines: list[BasketLine],
    coupon_codes: list[str],
    offer_response_ids: list[int],
    basket: dict,
    actor: Actor,
    at=None,
) -> Checkout:
    """Open a checkout holding what the basket applies until `CHECKOUT_HOLD_SECONDS` from now."""
    for _ in range(OPEN_ATTEMPTS):
        try:
            with transaction.atomic():
                return _checkout_open_once(
                    member=member,
                    store=store,
                    transaction_id=transaction_id,
                    lines=lines,
                    coupon_codes=coupon_codes,
                    offer_response_ids=offer_response_ids,
                    basket=basket,
                    actor=actor,
                    at=at,
                )
        except _HoldLost:
            continue
    raise CheckoutError(
        "Other checkouts keep taking this basket's coupons; try again.",
        code="hold_contended",
        reasons=["hold_contended"],
    )


def _checkout_open_once(*, member, store, transaction_id, lines, coupon_codes, offer_response_ids, basket, actor, at):
    now = timezone.now()
    expires_at = now + timedelta(seconds=settings.CHECKOUT_HOLD_SECONDS)
    # Priced before the checkout exists: a new checkout holds nothing yet, so it answers as it would once
    # opened, and the checkout is written once, with its evaluation.
    evaluation = basket_evaluate(
        member=member,
        store=store,
        lines=lines,
        coupon_codes=coupon_codes,
        offer_response_ids=offer_response_ids,
        at=at,
    )
    checkout = Checkout(
        member=member,
        store=store,
        transaction_id=transaction_id,
        status=Status.HELD,
        expires_at=expires_at,
        basket=basket,
        evaluation=evaluation.body,
        created_at=now,
        status_changed_at=now,
        actor=actor.name[:100],
        channel=actor.channel[:30],
    )
    # Rows in id order, so two checkouts holding the same coupons never wait on each other in a circle.
    applying = sorted(evaluation.applying_coupons, key=lambda entry: entry.coupon.pk)
    holdable = [
        (entry.coupon.pk, entry.coupon.code) for entry in applying if coupon_holds.coupon_holdable(entry.coupon)
    ]
    holds = [
        CheckoutHold(
            kind=CheckoutHold.Kind.COUPON,
            coupon_id=entry.coupon.pk,
            code=entry.code,
            eligible_amount=entry.eligible_amount,
            discount_amount=sum(entry.line_discounts.values(), Decimal(0)),
            line_discounts={ref: f"{amount:.2f}" for ref, amount in entry.line_discounts.items()},
            held_at=now,
        )
        for entry in applying
    ]
    responses = [row.pk for row in evaluation.responses]
    if connection.vendor == "postgresql" and not responses:
        # The common opening, in one statement: the checkout and its event, its coupons' holds and its hold rows
        # (each a CTE naming the new checkout). Only a response's hold has a unique index to lose on.
        parts = {}
        if holdable:
            held_sql, held_params = coupon_holds.coupons_hold_sql(
                coupons=holdable, checkout_id_sql=lifecycle.CREATED_ID, until=expires_at, now=now
            )
            parts["held"] = (held_sql + " RETURNING id", held_params)
        if holds:
            parts["holds"] = _holds_insert_sql(holds)
        counts = _checkout_create(checkout=checkout, actor=actor, now=now, parts=parts)
        if holdable and counts["held"] != len({pk for pk, _ in holdable}):
            raise _HoldLost
        return checkout
    _checkout_create(checkout=checkout, actor=actor, now=now)
    # One statement for every coupon.
    if not coupon_holds.coupons_hold(coupons=holdable, checkout_id=checkout.pk, until=expires_at, now=now):
        raise _HoldLost
    if responses:
        _lapsed_response_holds_release(ids=responses, now=now)
    holds += [
        CheckoutHold(kind=CheckoutHold.Kind.OFFER_RESPONSE, offer_response_id=pk, held_at=now) for pk in responses
    ]
    for hold in holds:
        hold.checkout = checkout
    if not responses:
        CheckoutHold.objects.bulk_create(holds)
        return checkout
    try:
        with transaction.atomic():
            CheckoutHold.objects.bulk_create(holds)
    except IntegrityError:
        raise _HoldLost from None
    return checkout


def _checkout_create(*, checkout, actor, now, parts=None) -> dict[str, int]:
    """The checkout and its event (`lifecycle.checkout_create`). No savepoint: a second checkout of the transaction id
    fails the insert, and the refusal raised from here rolls the whole opening back."""
    try:
        with transaction.atomic(savepoint=False):
            return lifecycle.checkout_create(checkout=checkout, actor=actor, reason="opened", at=now, parts=parts)
    except IntegrityError:
        raise CheckoutError(
            f"Transaction {checkout.transaction_id!r} already has an open or committed checkout at store "
            f"{checkout.store.code}.",
            code=TRANSACTION_ID_IN_USE,
            reasons=[TRANSACTION_ID_IN_USE],
        ) from None


# Every hold column but the key and the checkout (the new checkout's id), in the model's order.
_HOLD_FIELDS = [
    field for field in CheckoutHold._meta.concrete_fields if not field.primary_key and field.name != "checkout"
]


def _holds_insert_sql(holds: list[CheckoutHold]) -> tuple[str, list]:
    """The hold rows as a CTE of the checkout's statement (`lifecycle.checkout_create`'s `parts`)."""
    columns = ", ".join(f'"{field.column}"' for field in _HOLD_FIELDS)
    row = f"({lifecycle.typed_placeholders(_HOLD_FIELDS)})"
    sql = (
        f'INSERT INTO {CheckoutHold._meta.db_table} ("checkout_id", {columns}) SELECT {lifecycle.CREATED_ID}, v.* '
        f"FROM (VALUES {', '.join([row] * len(holds))}) v RETURNING id"
    )
    params = [
        field.get_db_prep_save(getattr(hold, field.attname), connection) for hold in holds for field in _HOLD_FIELDS
    ]
    return sql, params


def _lapsed_response_holds_release(*, ids, now) -> None:
    """A hold past its checkout's expiry frees the response at once, before the sweep gets to it."""
    lapsed = Checkout.objects.filter(status=Status.HELD, expires_at__lte=now)
    CheckoutHold.objects.filter(offer_response_id__in=ids, released_at__isnull=True, checkout__in=lapsed).update(
        released_at=now
    )


def checkout_commit(*, checkout_id: int, actor: Actor, permit=None) -> dict:
    """Redeem, complete and record what the checkout holds, in one transaction; a repeat replays the answer.

    `permit(checkout)` raises when the caller may not commit it (another store's); `Checkout.DoesNotExist` when
    there is no such checkout."""
    with transaction.atomic():
        now = timezone.now()
        checkout, holds = _checkout_locked_releasing_holds(checkout_id=checkout_id, now=now)
        if permit is not None:
            permit(checkout)
        if checkout.status == Status.COMMITTED:
            return checkout.committed_body
        if checkout.status == Status.EXPIRED or (checkout.status == Status.HELD and checkout.expires_at <= now):
            raise HoldExpiredError("The checkout's holds lapsed; open a new checkout.", reasons=[HOLD_EXPIRED])
        lifecycle.transition_check(checkout.status, Status.COMMITTED)
        evaluation = checkout.evaluation
        recorded, _ = offer_services.transaction_record(
            transaction_id=checkout.transaction_id, member=checkout.member, store=checkout.store,
            total_amount=Decimal(evaluation["amount_due"]), items=_purchase_items(evaluation), actor=actor,
        )  # fmt: skip
        completed = _responses_complete(
            ids=[hold.offer_response_id for hold in holds if hold.kind == CheckoutHold.Kind.OFFER_RESPONSE],
            checkout=checkout, actor=actor,
        )  # fmt: skip
        # Each coupon's own row: redeeming it clears its hold too. The series' counters, rows every till shares,
        # are the last statement before the commit, so other tills' commits wait on them as briefly as possible.
        coupon_holds_of = {hold.coupon_id: hold for hold in holds if hold.kind == CheckoutHold.Kind.COUPON}
        rows = redemption.coupons_redeem_held(
            held=[_held_coupon(hold) for hold in coupon_holds_of.values()],
            member=checkout.member, store=checkout.store, actor=actor, transaction_id=checkout.transaction_id,
            checkout_id=checkout.pk,
        )  # fmt: skip
        body = {
            "id": checkout.pk,
            "status": Status.COMMITTED,
            "redemptions": [
                {
                    "redemption_id": row.pk,
                    "code": coupon_holds_of[row.coupon_id].code,
                    "discount_amount": f"{row.discount_amount:.2f}",
                }
                for row in rows
            ],
            "completed_responses": completed,
            "transaction": recorded,
        }
        lifecycle.checkout_transition(
            checkout=checkout, to=Status.COMMITTED, actor=actor, reason="paid", at=now, committed_body=body
        )
        idempotency.pending_answer_write(status=200, body=body)
        redemption.series_redemptions_count(redemptions=rows)
    return body


HOLD = ModelColumns(CheckoutHold, CheckoutHold._meta.db_table)
_OPEN_HOLDS_RELEASE_SQL = f"""UPDATE {CheckoutHold._meta.db_table} SET released_at = %s
WHERE checkout_id = %s AND released_at IS NULL RETURNING {HOLD.sql}"""


def _checkout_locked_releasing_holds(*, checkout_id: int, now) -> tuple[Checkout, list[CheckoutHold]]:
    """The checkout locked (`selectors.checkout_for_update`) and, when it is held and unexpired at `now`, its open
    holds released and read (in pk order; none otherwise): one statement on PostgreSQL, as the commit runs it with
    every payment. A commit that does not go through rolls the release back with everything else."""
    if connection.vendor != "postgresql":
        checkout = selectors.checkout_for_update(pk=checkout_id)
        holds = []
        if checkout.status == Status.HELD and checkout.expires_at > now:
            holds = _open_holds_release(checkout_id=checkout.pk, now=now)
        return checkout, holds
    with connection.cursor() as cursor:
        cursor.execute(_locked_releasing_sql(), [checkout_id, connection.ops.adapt_datetimefield_value(now), now])
        rows = cursor.fetchall()
    found = [row for row in rows if row[0] is not None]
    if not found:
        raise Checkout.DoesNotExist(f"No checkout {checkout_id}.")
    width = selectors.CHECKOUT_WITH_MEMBER_AND_STORE_WIDTH
    holds = [HOLD.build(row, width) for row in rows if row[0] is None]
    return selectors.checkout_with_member_and_store(found[0]), sorted(holds, key=lambda hold: hold.pk)


@cache
def _locked_releasing_sql() -> str:
    """The locked read as a CTE (its columns renamed `_0`, `_1`, …: the three tables' names repeat), the release as
    another that takes the lock first (its condition reads the locked row), and both in one answer: the checkout's
    row with NULL hold columns, then one row per released hold with NULL checkout columns."""
    width = selectors.CHECKOUT_WITH_MEMBER_AND_STORE_WIDTH
    names = [f"_{n}" for n in range(width)]
    id_, status, expires_at = (
        names[selectors.CHECKOUT.attnames.index(name)] for name in ("id", "status", "expires_at")
    )
    typed_nulls = lambda fields: ", ".join(f"NULL::{field.db_type(connection)}" for field in fields)  # noqa: E731
    checkout_fields = [*selectors.CHECKOUT.fields, *selectors.MEMBER.fields, *selectors.STORE.fields]
    return f"""WITH c ({", ".join(names)}) AS ({selectors.CHECKOUT_WITH_MEMBER_AND_STORE_SQL} FOR UPDATE OF c),
released AS (UPDATE {CheckoutHold._meta.db_table} SET released_at = %s
    WHERE checkout_id = (SELECT {id_} FROM c WHERE {status} = '{Status.HELD}' AND {expires_at} > %s)
    AND released_at IS NULL RETURNING {HOLD.sql})
SELECT c.*, {typed_nulls(HOLD.fields)} FROM c
UNION ALL
SELECT {typed_nulls(checkout_fields)}, released.* FROM released"""


def _open_holds_release(*, checkout_id: int, now) -> list[CheckoutHold]:
    """The checkout's open holds, released and read in one statement (in pk order)."""
    with connection.cursor() as cursor:
        cursor.execute(_OPEN_HOLDS_RELEASE_SQL, [connection.ops.adapt_datetimefield_value(now), checkout_id])
        rows = cursor.fetchall()
    return sorted((HOLD.build(row) for row in rows), key=lambda hold: hold.pk)


def _held_coupon(hold: CheckoutHold) -> redemption.HeldCoupon:
    return redemption.HeldCoupon(
        coupon_id=hold.coupon_id,
        code=hold.code,
        bill_amount=hold.eligible_amount,
        line_discounts={ref: Decimal(amount) for ref, amount in hold.line_discounts.items()},
    )


def _responses_complete(*, ids, checkout, actor) -> list[int]:
    if not ids:
        return []
    rows = OfferResponse.objects.select_related("offer", "member").in_bulk(ids)
    for pk in ids:
        response_services.offer_response_transition(
            response=rows[pk], to_status=response_rules.COMPLETED, actor=actor, reason=f"checkout {checkout.pk}"
        )
    return ids


def _purchase_items(evaluation: dict) -> list[dict]:
    return [
        {
            "sku": line["sku"],
            "quantity": line["quantity"],
            "unit_price": line["unit_price"],
            "line_ref": line["line_ref"],
            "discount_amount": line["discount_amount"],
            "points": line["points"],
        }
        for line in evaluation["lines"]
    ]


def checkout_cancel(*, checkout_id: int, actor: Actor) -> Checkout:
    """Void a checkout before payment: its holds are released. Canceling twice answers as the first time."""
    with transaction.atomic():
        checkout = selectors.checkout_for_update(pk=checkout_id)
        if checkout.status == Status.CANCELED:
            return checkout
        if checkout.status == Status.EXPIRED:
            raise HoldExpiredError("The checkout's holds already lapsed.", reasons=[HOLD_EXPIRED])
        if checkout.status == Status.COMMITTED:
            raise CheckoutTransitionError(
                "A committed checkout is not canceled; record a return.", reasons=[Status.COMMITTED]
            )
        now = timezone.now()
        lifecycle.checkout_transition(checkout=checkout, to=Status.CANCELED, actor=actor, reason="voided", at=now)
        _holds_release(checkout_ids=[checkout.pk], now=now)
    return checkout


def checkouts_expire_due(*, actor: Actor, now=None, batch_size: int = 1000) -> int:
    """Expire the open checkouts past `expires_at` and release their holds, in batches; returns how many."""
    now = now or timezone.now()
    expired = 0
    while True:
        with transaction.atomic():
            ids = list(
                selectors.checkouts_due_for_expiry(now=now).order_by("pk").values_list("pk", flat=True)[:batch_size]
            )
            if not ids:
                break
            moved = lifecycle.checkouts_transition(
                rows=Checkout.objects.filter(pk__in=ids, status=Status.HELD),
                to=Status.EXPIRED,
                actor=actor,
                reason="hold lapsed",
                at=now,
            )
            _holds_release(
                checkout_ids=list(
                    Checkout.objects.filter(pk__in=ids, status=Status.EXPIRED).values_list("pk", flat=True)
                ),
                now=now,
            )
        expired += moved
        if moved == 0 or len(ids) < batch_size:
            break
    return expired


def _holds_release(*, checkout_ids: list[int], now) -> None:
    open_holds = CheckoutHold.objects.filter(checkout_id__in=checkout_ids, released_at__isnull=True)
    coupon_ids = list(open_holds.filter(kind=CheckoutHold.Kind.COUPON).values_list("coupon_id", flat=True))
    if coupon_ids:
        coupon_holds.coupons_hold_release(coupon_ids=coupon_ids, checkout_ids=checkout_ids)
    open_holds.update(released_at=now)
