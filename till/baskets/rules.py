"""Pricing a basket: which coupons combine, and how each one's discount and each award's points fall on the lines.

Pure functions over plain values (API_CONTRACT.md, "Baskets and checkouts"). Money is handled in cents and
points in whole points, so a spread adds up exactly; ties go to the line whose `line_ref` sorts first, so the
answer never depends on the order the lines were sent in.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from coupons.redemption import rules as redemption_rules

NOT_COMBINABLE = "not_combinable"
SERIES_ONCE_PER_BASKET = "series_once_per_basket"
NO_ELIGIBLE_LINES = "no_eligible_lines"
HELD_BY_ANOTHER_CHECKOUT = redemption_rules.HELD_BY_ANOTHER_CHECKOUT

# Offer responses a basket names
OFFER_RESPONSE_NOT_FOUND = "offer_response_not_found"
NOT_OWNER = redemption_rules.NOT_OWNER
NOT_USABLE = "not_usable"
USAGE_PERIOD_NOT_ACTIVE = "usage_period_not_active"
EXPIRED = redemption_rules.EXPIRED

CENT = Decimal("0.01")


def cents(amount: Decimal) -> int:
    return int((amount / CENT).to_integral_value())


def money(amount_cents: int) -> Decimal:
    return (Decimal(amount_cents) * CENT).quantize(CENT)


def money_text(amount_cents: int) -> str:
    """`str(money(amount_cents))` without the Decimal arithmetic: an answer writes some hundred amounts."""
    sign = "-" if amount_cents < 0 else ""
    whole, part = divmod(abs(amount_cents), 100)
    return f"{sign}{whole}.{part:02d}"


def line_amount(*, quantity: int, unit_price: Decimal) -> int:
    """A line's amount in cents."""
    return cents((unit_price * quantity).quantize(CENT, rounding="ROUND_HALF_UP"))


def _largest_first(weights: Mapping[str, int]) -> list[str]:
    return sorted(weights, key=lambda ref: (-weights[ref], ref))


def spread(total: int, weights: Mapping[str, int], caps: Mapping[str, int] | None = None) -> dict[str, int]:
    """`total` units over the lines in proportion to `weights`: each line's share rounded down, the remainder
    on the largest line (then the next largest, should a share reach its line's cap). With `caps`, no line
    gets more than its cap; `total` must not exceed their sum. Lines without weight get nothing."""
    weighted = {ref: weight for ref, weight in weights.items() if weight > 0}
    whole = sum(weighted.values())
    if total <= 0 or whole <= 0:
        return dict.fromkeys(weights, 0)
    shares = {ref: total * weight // whole for ref, weight in weighted.items()}
    if caps is not None:
        shares = {ref: min(share, caps[ref]) for ref, share in shares.items()}
    remainder = total - sum(shares.values())
    if remainder <= 0:  # shares that add up need no order
        return {ref: shares.get(ref, 0) for ref in weights}
    for ref in _largest_first(weighted):
        if remainder <= 0:
            break
        room = remainder if caps is None else min(remainder, caps[ref] - shares[ref])
        shares[ref] += room
        remainder -= room
    return {ref: shares.get(ref, 0) for ref in weights}


def fixed_allocation(*, discount: Decimal, remaining: Mapping[str, int]) -> dict[str, int]:
    """A fixed discount (already in the store's currency) over its eligible lines, never more than they hold."""
    amount = redemption_rules.discount_amount(
        discount_type="fixed", value=discount, bill_amount=money(sum(remaining.values()))
    )
    return spread(cents(amount), remaining, caps=remaining)


def percentage_allocation(*, percent: Decimal, remaining: Mapping[str, int]) -> dict[str, int]:
    """A percentage of each eligible line (what earlier coupons left of it), rounded per line."""
    return {
        ref: cents(
            redemption_rules.discount_amount(discount_type="percentage", value=percent, bill_amount=money(amount))
        )
        for ref, amount in remaining.items()
    }


@dataclass(frozen=True)
class CouponCandidate:
    """One coupon a basket names, as the redemption rules judged it against its eligible lines."""

    position: int  # the order it was sent in
    code: str
    series_id: int | None
    priority: int
    exclusive: bool
    reasons: tuple[str, ...]
    discount_type: str
    value: Decimal  # a fixed discount converted to the store's currency; a percentage as it is
    line_refs: frozenset[str]  # its eligible lines


@dataclass(frozen=True)
class CouponOutcome:
    code: str
    position: int
    reasons: tuple[str, ...]
    line_discounts: dict[str, int]  # cents, the lines it discounts only

    @property
    def applies(self) -> bool:
        return not self.reasons

    @property
    def discount(self) -> int:
        return sum(self.line_discounts.values())


def consideration_order(candidates: Iterable[CouponCandidate]) -> list[CouponCandidate]:
    """Higher priority first, then the order sent."""
    return sorted(candidates, key=lambda candidate: (-candidate.priority, candidate.position))


def coupons_allocate(*, lines: Mapping[str, int], candidates: list[CouponCandidate]) -> list[CouponOutcome]:
    """Which coupons apply and what each takes off which line, in the order they were sent.

    Coupons are considered by priority; the first exclusive coupon the rules allow is the only one that
    applies (the others the rules allow answer `not_combinable`); one coupon per series applies (the others
    answer `series_once_per_basket`). Each applying coupon discounts what earlier ones left of its lines.
    """
    ordered = consideration_order(candidates)
    exclusive = next((c for c in ordered if c.exclusive and not c.reasons), None)
    remaining = dict(lines)
    series_used, outcomes = set(), {}
    for candidate in ordered:
        reasons = list(candidate.reasons)
        if not reasons and candidate.series_id in series_used:
            reasons.append(SERIES_ONCE_PER_BASKET)
        elif not reasons and exclusive is not None and candidate is not exclusive:
            reasons.append(NOT_COMBINABLE)
        discounts = {}
        if not reasons:
            series_used.add(candidate.series_id)
            eligible = {ref: remaining[ref] for ref in sorted(candidate.line_refs)}
            if candidate.discount_type == "percentage":
                taken = percentage_allocation(percent=candidate.value, remaining=eligible)
            else:
                taken = fixed_allocation(discount=candidate.value, remaining=eligible)
            discounts = {ref: amount for ref, amount in taken.items() if amount > 0}
            for ref, amount in discounts.items():
                remaining[ref] -= amount
        outcomes[candidate.position] = CouponOutcome(
            code=candidate.code, position=candidate.position, reasons=tuple(reasons), line_discounts=discounts
        )
    return [outcomes[position] for position in sorted(outcomes)]


def eligible_line_refs(*, skus: Iterable[str] | None, line_skus: Mapping[str, str]) -> frozenset[str]:
    """The lines a coupon may discount: those of its series' SKUs, or every line when the series names none."""
    if not skus:
        return frozenset(line_skus)
    allowed = set(skus)
    return frozenset(ref for ref, sku in line_skus.items() if sku in allowed)


def offer_response_reasons(
    *,
    found: bool,
    is_owner: bool,
    usable_status: bool,
    usage_active: bool,
    expires_at: datetime | None,
    held_elsewhere: bool,
    at: datetime,
) -> list[str]:
    """Every reason a till may not apply an offer response now (usable as `?usable=true` says, not held)."""
    if not found:
        return [OFFER_RESPONSE_NOT_FOUND]
    reasons = []
    if not is_owner:
        reasons.append(NOT_OWNER)
    if not usable_status:
        reasons.append(NOT_USABLE)
    if not usage_active:
        reasons.append(USAGE_PERIOD_NOT_ACTIVE)
    if expires_at is not None and expires_at <= at:
        reasons.append(EXPIRED)
    if held_elsewhere:
        reasons.append(HELD_BY_ANOTHER_CHECKOUT)
    return reasons
