"""Recording a return: the lines brought back, the points and coupons the purchase's kept basket no longer earns.

One return is one transaction under the purchase's row lock, so returns of one purchase are decided one after
another on what the earlier ones left: two tills returning the same lines at once never return more than was
bought. The arithmetic is in `till.returns.rules`; points move through the members ledger
(`points_take_back`), coupons through the coupons reverse service, and the return is written to the outbox
(`return.recorded`) in the same transaction.
"""

import hashlib
import json
from collections import Counter
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from config.actors import Actor
from coupons.models import CouponRedemption
from coupons.redemption.services import redemption_reverse
from members.models import Member, OrgEntity
from members.services import points_take_back
from offers.models import Fulfillment, Transaction
from offers.rules_index import earning_facts
from till.returns import rules
from till.returns.exceptions import (
    PURCHASE_NOT_FOUND,
    RETURN_EXCEEDS_PURCHASE,
    RETURN_ID_REUSED,
    RETURN_WINDOW_CLOSED,
    ReturnError,
)
from till.returns.models import Return, ReturnLine
from webhooks import events
from webhooks.outbox import events_emit


def return_record(
    *, transaction_id: str, store: OrgEntity, return_id: str, lines: list[dict], actor: Actor
) -> tuple[dict, bool]:
    """Record the return `return_id` of purchase `transaction_id` at `store`; returns (body, created).

    `lines` are `{line_ref, quantity}`. The same return id at the store with the same body answers the first
    body and changes nothing; with another body it is refused (`return_id_reused`).
    """
    requested = Counter()
    for line in lines:
        requested[str(line["line_ref"])] += int(line["quantity"])
    fingerprint = _return_fingerprint(transaction_id=transaction_id, requested=requested)
    now = timezone.now()
    with transaction.atomic():
        purchase = (
            Transaction.objects.select_for_update(of=("self",))
            .select_related("member")
            .filter(transaction_id=transaction_id, store=store)
            .first()
        )
        if purchase is None:
            raise ReturnError(
                f"No purchase {transaction_id!r} is recorded at store {store.code}.",
                code=PURCHASE_NOT_FOUND,
                http_status=404,
            )
        earlier = list(Return.objects.filter(purchase=purchase).prefetch_related("lines").order_by("id"))
        repeat = _repeat(earlier, store=store, return_id=return_id, fingerprint=fingerprint)
        if repeat is not None:
            return repeat, False
        if now > purchase.occurred_at + timedelta(days=settings.RETURN_WINDOW_DAYS):
            raise ReturnError(
                f"Purchases can be returned up to {settings.RETURN_WINDOW_DAYS} days after they were made.",
                code=RETURN_WINDOW_CLOSED,
                reasons=[RETURN_WINDOW_CLOSED],
            )
        purchase_lines = rules.purchase_lines(items=purchase.items, total_amount=purchase.total_amount)
        returned_before = Counter()
        for row in earlier:
            for line in row.lines.all():
                returned_before[line.line_ref] += line.quantity
        over = rules.over_returned(purchase_lines, returned_before=returned_before, requested=requested)
        if over:
            raise ReturnError(
                f"More would be returned than was bought on line(s) {', '.join(over)}.",
                code=RETURN_EXCEEDS_PURCHASE,
                reasons=[RETURN_EXCEEDS_PURCHASE],
                extra={"line_refs": over},
            )
        kept = rules.kept_lines(purchase_lines, returned=returned_before + requested)
        kept_total = rules.kept_total(total_amount=purchase.total_amount, lines=purchase_lines, kept=kept)
        member = purchase.member
        reversals = _award_reversals(purchase, earlier=earlier, kept=kept, kept_total=kept_total)
        points = sum(item["points"] for item in reversals)
        shortfall = 0
        if points:
            entry = points_take_back(member=member, points=points, actor=actor, reference=transaction_id,
                                     reason=f"Return {return_id}")  # fmt: skip
            shortfall = entry.shortfall
        outcomes = _coupon_outcomes(purchase, kept=kept, actor=actor)
        balance = Member.objects.values_list("points_balance", flat=True).get(pk=member.pk)
        body = {
            "return_id": return_id,
            "points_reversed": points - shortfall,
            "points_shortfall": shortfall,
            "points_balance": balance,
            "coupons": [{"code": item["code"], "outcome": item["outcome"]} for item in outcomes],
        }
        try:
            with transaction.atomic():
                row = Return.objects.create(
                    return_id=return_id, purchase=purchase, store=store, member=member,
                    points_reversed=points - shortfall, points_shortfall=shortfall, award_reversals=reversals,
                    coupon_outcomes=outcomes, request_fingerprint=fingerprint, response_body=body,
                    actor=actor.name, channel=actor.channel, created_at=now,
                )  # fmt: skip
        except IntegrityError:  # the id was taken meanwhile by a return of another purchase of the store
            raise _reused(return_id, store) from None
        by_ref = {line.line_ref: line for line in purchase_lines}
        ReturnLine.objects.bulk_create(
            ReturnLine(sale_return=row, line_ref=ref, sku=by_ref[ref].sku, quantity=quantity,
                       unit_price=by_ref[ref].unit_price)
            for ref, quantity in sorted(requested.items())
        )  # fmt: skip
        returned = [{"line_ref": ref, "quantity": quantity} for ref, quantity in sorted(requested.items())]
        # About the purchase, so a receiver hears of its returns after its recording, in order.
        events_emit(type=events.RETURN_RECORDED, object_type="transaction", object_id=purchase.pk, at=now,
                    data={**body, "transaction_id": transaction_id, "store": store.code,
                          "member_external_id": member.external_id, "lines": returned})  # fmt: skip
    return body, True


def _repeat(earlier: list[Return], *, store: OrgEntity, return_id: str, fingerprint: str) -> dict | None:
    """The first answer when this return was recorded already; refuses another return under its id."""
    first = next((row for row in earlier if row.return_id == return_id), None)
    if first is None:
        # An id used for another purchase of the store: the unique index would refuse it too.
        if Return.objects.filter(store=store, return_id=return_id).exists():
            raise _reused(return_id, store)
        return None
    if first.request_fingerprint != fingerprint:
        raise _reused(return_id, store)
    return first.response_body


def _reused(return_id: str, store: OrgEntity) -> ReturnError:
    return ReturnError(
        f"Return {return_id!r} is already recorded at store {store.code} for other goods.",
        code=RETURN_ID_REUSED,
        reasons=[RETURN_ID_REUSED],
    )


def _award_reversals(purchase: Transaction, *, earlier: list[Return], kept, kept_total) -> list[dict]:
    """The points each award of the purchase loses now: what it gave, less what the kept basket still earns,
    less what earlier returns took back already."""
    taken_before = Counter()
    for row in earlier:
        for item in row.award_reversals:
            taken_before[item["fulfillment_id"]] += item["points"]
    reversals = []
    fulfillments = Fulfillment.objects.filter(transaction=purchase).select_related("offer__earning_mechanism")
    for fulfillment in fulfillments.order_by("id"):
        mechanism = getattr(fulfillment.offer, "earning_mechanism", None)
        still_earned = 0
        if mechanism is not None:
            still_earned = rules.award_points_kept(
                earning_facts(mechanism), awarded=fulfillment.points, kept=kept, kept_total_amount=kept_total
            )
        owed = fulfillment.points - still_earned - taken_before[fulfillment.pk]
        if owed > 0:
            reversals.append({"fulfillment_id": fulfillment.pk, "offer_id": fulfillment.offer_id, "points": owed})
    return reversals


def _coupon_outcomes(purchase: Transaction, *, kept, actor: Actor) -> list[dict]:
    """Each coupon still redeemed in the purchase, with what the kept basket makes of it; reinstated ones are
    reversed here, through the coupons reverse service."""
    purchase_lines = rules.purchase_lines(items=purchase.items, total_amount=purchase.total_amount)
    redemptions = (
        CouponRedemption.objects.filter(
            transaction_id=purchase.transaction_id, store_id=purchase.store_id, is_reversed=False
        )
        .select_related("coupon", "series")
        .order_by("id")
    )
    outcomes = []
    for redemption in redemptions:
        series = redemption.series
        discounted = rules.discounted_line_refs(
            purchase_lines, line_discounts=redemption.line_discounts, skus=series.redemption_skus
        )
        outcome = rules.coupon_outcome(on_return=series.on_return, discounted=discounted, kept=kept,
                                       min_bill=series.min_bill)  # fmt: skip
        if outcome == rules.REINSTATED:
            redemption_reverse(redemption=redemption, actor=actor)
        outcomes.append({"redemption_id": redemption.pk, "code": redemption.coupon.code, "outcome": outcome})
    return outcomes


def _return_fingerprint(*, transaction_id: str, requested: Counter) -> str:
    goods = {"transaction_id": transaction_id, "lines": sorted(requested.items())}
    return hashlib.sha256(json.dumps(goods, separators=(",", ":")).encode()).hexdigest()
