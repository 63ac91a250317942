"""What a return takes back, over plain values: the lines kept, the awards they still earn, the coupons' fate.

Every decision is taken on the basket the customer keeps after all returns of the purchase so far, not on
the units of one return: a basket returned in three steps ends exactly where one full return ends, and an
award or coupon is settled once, on the return that crosses its threshold.

Decisions where the contract is silent (docs/returns.md):
- a purchase recorded without lines is one line, "1", of one unit priced at its total;
- a line without `line_ref` is known by its 1-based position ("1", "2", …);
- the kept basket's total is the purchase's total in proportion to the kept lines' list value (so a total
  that already had discounts off keeps them in proportion), rounded down to the cent;
- an award keeps the points the kept basket would earn under its offer's earning mechanism, never more than it
  gave: a per-unit award loses its points per returned unit, a threshold award all of them once the kept basket
  no longer meets the threshold;
- a coupon with `line_discounts` discounted those lines; without, every line its series' SKUs allow (every line
  when the series names none). A coupon is settled (reinstated or forfeited) when all those lines are returned,
  or when their kept amount falls below the series' `min_bill`; otherwise it is kept.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal

from offers.rules import BasketItem, EarningFacts, earned_points

REINSTATED = "reinstated"
FORFEITED = "forfeited"
KEPT = "kept"
CENT = Decimal("0.01")


@dataclass(frozen=True)
class PurchaseLine:
    line_ref: str
    sku: str
    quantity: int
    unit_price: Decimal

    @property
    def amount(self) -> Decimal:
        return self.unit_price * self.quantity


def purchase_lines(*, items: list[dict], total_amount: Decimal) -> tuple[PurchaseLine, ...]:
    """The purchase's lines as a return names them (see the module's notes for purchases without lines)."""
    if not items:
        return (PurchaseLine(line_ref="1", sku="", quantity=1, unit_price=Decimal(total_amount)),)
    return tuple(
        PurchaseLine(
            line_ref=str(item.get("line_ref") or position),
            sku=item.get("sku", ""),
            quantity=int(item["quantity"]),
            unit_price=Decimal(str(item["unit_price"])),
        )
        for position, item in enumerate(items, start=1)
    )


def over_returned(
    lines: Iterable[PurchaseLine], *, returned_before: Mapping[str, int], requested: Mapping[str, int]
) -> list[str]:
    """The line refs this return asks for more of than is left to return (unknown lines included)."""
    bought = {line.line_ref: line.quantity for line in lines}
    return sorted(
        ref for ref, quantity in requested.items() if returned_before.get(ref, 0) + quantity > bought.get(ref, 0)
    )


def kept_lines(lines: Iterable[PurchaseLine], *, returned: Mapping[str, int]) -> tuple[PurchaseLine, ...]:
    """The lines with the units still kept after `returned` (cumulative, by line ref); empty lines left out."""
    kept = []
    for line in lines:
        quantity = line.quantity - returned.get(line.line_ref, 0)
        if quantity > 0:
            kept.append(PurchaseLine(line.line_ref, line.sku, quantity, line.unit_price))
    return tuple(kept)


def kept_total(*, total_amount: Decimal, lines: Iterable[PurchaseLine], kept: Iterable[PurchaseLine]) -> Decimal:
    """The purchase's total for the kept lines, in proportion to their list value."""
    listed = sum((line.amount for line in lines), Decimal(0))
    kept_value = sum((line.amount for line in kept), Decimal(0))
    if listed <= 0:
        return Decimal(total_amount) if kept_value == listed else Decimal(0)
    return (Decimal(total_amount) * kept_value / listed).quantize(CENT, rounding=ROUND_FLOOR)


def award_points_kept(
    mechanism: EarningFacts, *, awarded: int, kept: Iterable[PurchaseLine], kept_total_amount: Decimal
) -> int:
    """The points of an award that the kept basket still earns (at most what was awarded)."""
    basket = tuple(BasketItem(sku=line.sku, quantity=line.quantity, unit_price=line.unit_price) for line in kept)
    return min(awarded, earned_points(mechanism, total_amount=kept_total_amount, items=basket))


def discounted_line_refs(
    lines: Iterable[PurchaseLine], *, line_discounts: Mapping[str, object] | None, skus: list[str] | None
) -> frozenset[str]:
    """The lines a redemption discounted: its own record of them, else those its series' SKUs allow."""
    if line_discounts is not None:
        return frozenset(str(ref) for ref in line_discounts)
    allowed = None if skus is None else set(skus)
    return frozenset(line.line_ref for line in lines if allowed is None or line.sku in allowed)


def coupon_outcome(
    *, on_return: str, discounted: frozenset[str], kept: Iterable[PurchaseLine], min_bill: Decimal | None
) -> str:
    """`kept` while the kept basket still carries the coupon; else what its series says a return does."""
    if not discounted:
        return KEPT  # it discounted none of the purchase's lines, so no return touches it
    kept_discounted = [line for line in kept if line.line_ref in discounted]
    still_qualifies = bool(kept_discounted) and (
        min_bill is None or sum((line.amount for line in kept_discounted), Decimal(0)) >= min_bill
    )
    if still_qualifies:
        return KEPT
    return REINSTATED if on_return == "reinstate" else FORFEITED
