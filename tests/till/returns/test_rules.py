from decimal import Decimal

import pytest

from offers.rules import EarningFacts
from till.returns import rules

LINES = (
    rules.PurchaseLine("1", "MILK", 4, Decimal("2.50")),
    rules.PurchaseLine("2", "BREAD", 2, Decimal("3.00")),
)
PER_MILK = EarningFacts(behavior_type="purchase_product", award_type="points_per_unit", sku="MILK", points_per_unit=10)
SPEND_12 = EarningFacts(behavior_type="spend", award_type="points", min_amount=Decimal("12"), points=50)


def test_purchase_lines_number_lines_without_refs_and_keep_given_refs():
    items = [{"sku": "A", "quantity": 1, "unit_price": "1.00"}, {"line_ref": "x9", "sku": "B", "quantity": 2,
                                                                  "unit_price": "2.00"}]  # fmt: skip
    assert [line.line_ref for line in rules.purchase_lines(items=items, total_amount=Decimal("5"))] == ["1", "x9"]


def test_purchase_lines_of_a_purchase_without_lines_is_one_line_of_its_total():
    assert rules.purchase_lines(items=[], total_amount=Decimal("7.10")) == (
        rules.PurchaseLine("1", "", 1, Decimal("7.10")),
    )


def test_over_returned_counts_earlier_returns_and_unknown_lines():
    assert rules.over_returned(LINES, returned_before={"1": 3}, requested={"1": 1, "2": 2}) == []
    assert rules.over_returned(LINES, returned_before={"1": 3}, requested={"1": 2}) == ["1"]
    assert rules.over_returned(LINES, returned_before={}, requested={"3": 1}) == ["3"]


def test_kept_total_is_in_proportion_and_zero_when_all_is_back():
    kept = rules.kept_lines(LINES, returned={"1": 1})
    assert rules.kept_total(total_amount=Decimal("16.00"), lines=LINES, kept=kept) == Decimal("13.50")
    # a total with 1.60 off keeps it in proportion, rounded down to the cent
    assert rules.kept_total(total_amount=Decimal("14.40"), lines=LINES, kept=kept) == Decimal("12.15")
    assert rules.kept_total(total_amount=Decimal("16"), lines=LINES, kept=()) == Decimal("0")


@pytest.mark.parametrize(
    "returned, per_milk, spend",
    [({}, 40, 50), ({"1": 1}, 30, 50), ({"2": 2}, 40, 0), ({"1": 4}, 0, 0), ({"1": 4, "2": 2}, 0, 0)],
)
def test_award_points_kept(returned, per_milk, spend):
    kept = rules.kept_lines(LINES, returned=returned)
    total = rules.kept_total(total_amount=Decimal("16.00"), lines=LINES, kept=kept)
    assert rules.award_points_kept(PER_MILK, awarded=40, kept=kept, kept_total_amount=total) == per_milk
    assert rules.award_points_kept(SPEND_12, awarded=50, kept=kept, kept_total_amount=total) == spend


def test_award_points_kept_never_exceeds_what_was_awarded():
    assert rules.award_points_kept(PER_MILK, awarded=25, kept=LINES, kept_total_amount=Decimal("16")) == 25


def test_discounted_line_refs():
    assert rules.discounted_line_refs(LINES, line_discounts=None, skus=None) == {"1", "2"}
    assert rules.discounted_line_refs(LINES, line_discounts=None, skus=["BREAD"]) == {"2"}
    assert rules.discounted_line_refs(LINES, line_discounts={"1": "0.50"}, skus=["BREAD"]) == {"1"}


@pytest.mark.parametrize(
    "returned, on_return, min_bill, outcome",
    [
        ({"2": 1}, "reinstate", None, "kept"),
        ({"2": 2}, "reinstate", None, "reinstated"),
        ({"2": 2}, "forfeit", None, "forfeited"),
        ({"2": 1}, "forfeit", Decimal("6"), "forfeited"),  # 3.00 kept of 6.00 needed
        ({"2": 1}, "forfeit", Decimal("3"), "kept"),  # exactly the minimum still qualifies
    ],
)
def test_coupon_outcome(returned, on_return, min_bill, outcome):
    kept = rules.kept_lines(LINES, returned=returned)
    decided = rules.coupon_outcome(on_return=on_return, discounted=frozenset({"2"}), kept=kept, min_bill=min_bill)
    assert decided == outcome


def test_coupon_outcome_of_a_coupon_on_no_line_is_kept():
    assert rules.coupon_outcome(on_return="reinstate", discounted=frozenset(), kept=(), min_bill=None) == "kept"
