"""Evaluating a basket: each line's discount and points, every coupon and offer response with its reasons, the
awards of the earning offers it meets. Reads only: the same basket at the same moment gives the same answer.

Coupons are judged by the redemption rules themselves (`coupons.redemption.services.coupon_validate_read`),
against their eligible lines' amount, so a coupon answers the reasons validate would, plus the basket's
own (`till.baskets.rules`). Awards come from the offers' in-memory index
(`offers.selectors.membership_offers_earned`): the statements do not grow with the offers or the lines.
"""

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.utils import timezone

from coupons.exceptions import ExchangeRateMissingError
from coupons.models import Coupon, CouponSeries
from coupons.redemption import rules as redemption_rules
from coupons.redemption import services as redemption
from coupons.redemption import statements as till_statements
from members.models import Member, OrgEntity
from offers import rules as offer_rules
from offers import selectors as offer_selectors
from offers.models import OfferResponse
from offers.responses import rules as response_rules
from till.baskets import rules


@dataclass(frozen=True)
class BasketLine:
    line_ref: str
    sku: str
    quantity: int
    unit_price: Decimal


@dataclass
class CouponEvaluation:
    code: str
    coupon: Coupon | None
    outcome: rules.CouponOutcome
    eligible_amount: Decimal

    @property
    def line_discounts(self) -> dict[str, Decimal]:
        return {ref: rules.money(amount) for ref, amount in self.outcome.line_discounts.items()}


@dataclass
class BasketEvaluation:
    body: dict
    coupons: list[CouponEvaluation] = field(default_factory=list)
    responses: list[OfferResponse] = field(default_factory=list)  # the ones that apply
    net_amount: Decimal = Decimal(0)

    @property
    def applying_coupons(self) -> list[CouponEvaluation]:
        return [entry for entry in self.coupons if entry.outcome.applies]


def basket_evaluate(
    *,
    member: Member,
    store: OrgEntity,
    lines: list[BasketLine],
    coupon_codes: list[str],
    offer_response_ids: list[int],
    at: datetime | None = None,
    checkout_id: int | None = None,
) -> BasketEvaluation:
    """Price the basket; `checkout_id` is the checkout asking, whose own holds do not count against it."""
    at = at or timezone.now()
    amounts = {line.line_ref: rules.line_amount(quantity=line.quantity, unit_price=line.unit_price) for line in lines}
    coupons = _coupons_evaluate(
        member=member, store=store, lines=lines, amounts=amounts, codes=coupon_codes, at=at, checkout_id=checkout_id
    )
    discounts = dict.fromkeys(amounts, 0)
    for entry in coupons:
        for ref, amount in entry.outcome.line_discounts.items():
            discounts[ref] += amount
    total, total_discount = sum(amounts.values()), sum(discounts.values())
    net_amount = rules.money(total - total_discount)
    awards, line_points = _awards(
        member=member, store=store, lines=lines, amounts=amounts, discounts=discounts, net_amount=net_amount, at=at
    )
    responses, response_rows = _responses_evaluate(
        member=member, ids=offer_response_ids, at=at, checkout_id=checkout_id
    )
    body = {
        "lines": [
            {
                "line_ref": line.line_ref,
                "sku": line.sku,
                "quantity": line.quantity,
                "unit_price": f"{line.unit_price:.2f}",
                "amount": rules.money_text(amounts[line.line_ref]),
                "discount_amount": rules.money_text(discounts[line.line_ref]),
                "points": line_points[line.line_ref],
            }
            for line in lines
        ],
        "coupons": [
            {
                "code": entry.code,
                "applies": entry.outcome.applies,
                "reasons": list(entry.outcome.reasons),
                "discount_amount": rules.money_text(entry.outcome.discount),
                "line_refs": sorted(entry.outcome.line_discounts),
            }
            for entry in coupons
        ],
        "offer_responses": responses,
        "awards": awards,
        "total_amount": rules.money_text(total),
        "total_discount": rules.money_text(total_discount),
        "amount_due": f"{net_amount}",
        "total_points": sum(award["points"] for award in awards),
    }
    return BasketEvaluation(body=body, coupons=coupons, responses=response_rows, net_amount=net_amount)


def _coupons_evaluate(*, member, store, lines, amounts, codes, at, checkout_id) -> list[CouponEvaluation]:
    line_skus = {line.line_ref: line.sku for line in lines}
    candidates, found = [], {}
    codes = [redemption.redemption_code(sent) for sent in codes]
    # Every code's coupon in one statement, as `coupon_for_redemption` reads each.
    coupons = till_statements.coupons_with_series(codes=codes, member_id=member.pk)
    for position, (code, coupon) in enumerate(zip(codes, coupons, strict=True)):
        found[position] = (code, coupon)
        if coupon is None:
            candidates.append(_candidate(position, code, None, (redemption_rules.COUPON_NOT_FOUND,), frozenset()))
            continue
        series = coupon.series
        eligible = rules.eligible_line_refs(skus=series.redemption_skus, line_skus=line_skus)
        eligible_amount = rules.money(sum(amounts[ref] for ref in eligible))
        reasons = redemption.coupon_validate_read(
            coupon=coupon, member=member, store=store, bill_amount=eligible_amount, at=at, checkout_id=checkout_id
        ).reasons
        if not eligible:
            reasons.append(rules.NO_ELIGIBLE_LINES)
        value = series.discount_value
        if series.discount_type == CouponSeries.DiscountType.FIXED:
            try:
                value = series.discount_value * redemption.exchange_rate(
                    from_currency=series.discount_currency, to_currency=redemption.store_context(store).currency
                )
            except ExchangeRateMissingError as exc:
                reasons += exc.reasons
        candidates.append(_candidate(position, code, coupon, tuple(reasons), eligible, value=value))
    outcomes = rules.coupons_allocate(lines=amounts, candidates=candidates)
    evaluations = []
    for outcome in outcomes:
        code, coupon = found[outcome.position]
        eligible = candidates[outcome.position].line_refs
        evaluations.append(
            CouponEvaluation(
                code=code,
                coupon=coupon,
                outcome=outcome,
                eligible_amount=rules.money(sum(amounts[ref] for ref in eligible)),
            )
        )
    return evaluations


def _candidate(position, code, coupon, reasons, line_refs, value=Decimal(0)) -> rules.CouponCandidate:
    series = coupon.series if coupon is not None else None
    return rules.CouponCandidate(
        position=position,
        code=code,
        series_id=series.pk if series else None,
        priority=series.stacking_priority if series else 0,
        exclusive=series.stacking_exclusive if series else False,
        reasons=reasons,
        discount_type=series.discount_type if series else CouponSeries.DiscountType.FIXED,
        value=value,
        line_refs=line_refs,
    )


def _awards(*, member, store, lines, amounts, discounts, net_amount, at) -> tuple[list[dict], dict[str, int]]:
    """The earning offers the basket meets (on what the customer pays), and each award's points spread over the
    lines that earned them: a product offer's over that product's lines by quantity, a spend offer's over
    every line by what is paid for it."""
    items = tuple(
        offer_rules.BasketItem(sku=line.sku, quantity=line.quantity, unit_price=line.unit_price) for line in lines
    )
    earned = offer_selectors.membership_offers_earned(
        member=member, at=at, time_zone=store.time_zone, items=items, total_amount=net_amount
    )
    line_points = dict.fromkeys(amounts, 0)
    if not earned:
        return [], line_points
    paid = {ref: amounts[ref] - discounts[ref] for ref in amounts}
    spend_weights = paid if any(paid.values()) else {line.line_ref: line.quantity for line in lines}
    # A product offer's points go to that product's lines only: its weights name just those (the others would
    # get nothing), so an award costs its own lines, not the whole basket.
    quantities_by_sku: dict[str, dict[str, int]] = {}
    for line in lines:
        quantities_by_sku.setdefault(line.sku, {})[line.line_ref] = line.quantity
    for award in earned:
        if award.earning is not None and award.earning.behavior_type == "purchase_product":
            weights = quantities_by_sku.get(award.earning.sku, {})
        else:
            weights = spend_weights
        for ref, points in rules.spread(award.points, weights).items():
            line_points[ref] += points
    return [{"offer_id": award.offer_id, "points": award.points} for award in earned], line_points


def _responses_evaluate(*, member, ids, at, checkout_id) -> tuple[list[dict], list[OfferResponse]]:
    if not ids:
        return [], []
    rows = OfferResponse.objects.in_bulk(ids)
    held = _responses_held_elsewhere(ids=ids, checkout_id=checkout_id)
    answers, applying = [], []
    for response_id in ids:
        row = rows.get(response_id)
        reasons = rules.offer_response_reasons(
            found=row is not None,
            is_owner=row is not None and row.member_id == member.pk,
            usable_status=row is not None and _ready(row),
            usage_active=row is not None and response_rules.usage_period_active(row.usage_start, row.usage_end, at=at),
            expires_at=row.expires_at if row is not None else None,
            held_elsewhere=response_id in held,
            at=at,
        )
        if not reasons:
            applying.append(row)
        answers.append({"id": response_id, "applies": not reasons, "reasons": reasons})
    return answers, applying


def _ready(row: OfferResponse) -> bool:
    if row.requires_activation:
        return row.status == response_rules.CLIPPED
    return row.status == response_rules.PENDING


def _responses_held_elsewhere(*, ids, checkout_id) -> set[int]:
    from till.checkouts.selectors import offer_responses_held

    return offer_responses_held(ids=ids, other_than=checkout_id)
