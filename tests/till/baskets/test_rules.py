"""Discount allocation and stacking: pure functions, checked exhaustively with Hypothesis."""

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from till.baskets import rules

line_amounts = st.dictionaries(
    keys=st.text(alphabet="abcdefghij0123456789", min_size=1, max_size=6),
    values=st.integers(min_value=0, max_value=10**9),
    min_size=1,
    max_size=30,
)
fixed_values = st.decimals(min_value=0, max_value=10**7, places=2, allow_nan=False, allow_infinity=False)
percentages = st.integers(min_value=0, max_value=100)


def candidate(
    position,
    *,
    code="C",
    series_id=None,
    priority=0,
    exclusive=False,
    reasons=(),
    kind="fixed",
    value="5",
    line_refs=frozenset({"a", "b"}),
):
    return rules.CouponCandidate(
        position=position,
        code=code,
        series_id=series_id if series_id else position,
        priority=priority,
        exclusive=exclusive,
        reasons=tuple(reasons),
        discount_type=kind,
        value=Decimal(value),
        line_refs=frozenset(line_refs),
    )


@given(amounts=line_amounts, value=fixed_values)
def test_fixed_allocation_adds_up_to_the_coupon_discount_and_never_exceeds_a_line(amounts, value):
    shares = rules.fixed_allocation(discount=value, remaining=amounts)
    expected = min(rules.cents(value), sum(amounts.values()))
    assert sum(shares.values()) == expected
    assert all(0 <= shares[ref] <= amounts[ref] for ref in amounts)


@given(amounts=line_amounts, value=fixed_values, data=st.data())
def test_fixed_allocation_does_not_depend_on_the_order_of_lines(amounts, value, data):
    order = data.draw(st.permutations(list(amounts)))
    shuffled = {ref: amounts[ref] for ref in order}
    assert rules.fixed_allocation(discount=value, remaining=shuffled) == rules.fixed_allocation(
        discount=value, remaining=amounts
    )


@given(amounts=line_amounts, percent=percentages)
def test_percentage_allocation_is_each_lines_share_and_never_exceeds_it(amounts, percent):
    shares = rules.percentage_allocation(percent=Decimal(percent), remaining=amounts)
    assert all(0 <= shares[ref] <= amounts[ref] for ref in amounts)
    assert all(abs(shares[ref] * 100 - amounts[ref] * percent) <= 50 for ref in amounts)  # cents rounded


@given(amounts=line_amounts, values=st.lists(fixed_values, min_size=1, max_size=4), data=st.data())
def test_coupons_allocate_sums_each_coupon_and_keeps_every_line_within_its_amount(amounts, values, data):
    refs = sorted(amounts)
    candidates = [
        candidate(
            index,
            value=value,
            line_refs=data.draw(st.sets(st.sampled_from(refs), min_size=1)),
            kind=data.draw(st.sampled_from(["fixed", "percentage"])),
        )
        for index, value in enumerate(values)
    ]
    candidates = [
        c
        if c.discount_type == "fixed"
        else candidate(c.position, kind="percentage", value=str(min(c.value, 100)), line_refs=c.line_refs)
        for c in candidates
    ]
    outcomes = rules.coupons_allocate(lines=amounts, candidates=candidates)
    taken = dict.fromkeys(amounts, 0)
    for outcome in outcomes:
        assert outcome.applies
        assert outcome.discount == sum(outcome.line_discounts.values())
        for ref, amount in outcome.line_discounts.items():
            taken[ref] += amount
    assert all(taken[ref] <= amounts[ref] for ref in amounts)
    shuffled = {ref: amounts[ref] for ref in data.draw(st.permutations(refs))}
    assert rules.coupons_allocate(lines=shuffled, candidates=candidates) == outcomes


def test_fixed_allocation_spreads_pro_rata_with_the_remainder_on_the_largest_line():
    shares = rules.fixed_allocation(discount=Decimal("10.00"), remaining={"a": 1000, "b": 2000, "c": 3000})
    assert shares == {"a": 166, "b": 333, "c": 501}


def test_fixed_allocation_never_exceeds_the_eligible_amount():
    assert rules.fixed_allocation(discount=Decimal("50"), remaining={"a": 300, "b": 200}) == {"a": 300, "b": 200}


def test_coupons_allocate_considers_priority_first_and_then_the_order_sent():
    lines = {"a": 1000}
    outcomes = rules.coupons_allocate(
        lines=lines,
        candidates=[
            candidate(0, value="8", line_refs={"a"}),
            candidate(1, value="8", priority=5, line_refs={"a"}),
        ],
    )
    assert [o.discount for o in outcomes] == [200, 800]  # the second took its 8.00 first


def test_coupons_allocate_an_exclusive_coupon_that_applies_is_the_only_one():
    outcomes = rules.coupons_allocate(
        lines={"a": 1000, "b": 1000},
        candidates=[
            candidate(0),
            candidate(1, exclusive=True),
            candidate(2, exclusive=True),
        ],
    )
    assert [o.reasons for o in outcomes] == [(rules.NOT_COMBINABLE,), (), (rules.NOT_COMBINABLE,)]


def test_coupons_allocate_an_exclusive_coupon_refused_by_its_rules_leaves_the_others():
    outcomes = rules.coupons_allocate(
        lines={"a": 1000, "b": 1000},
        candidates=[
            candidate(0),
            candidate(1, exclusive=True, reasons=["expired"]),
        ],
    )
    assert [o.reasons for o in outcomes] == [(), ("expired",)]


def test_coupons_allocate_applies_one_coupon_per_series():
    outcomes = rules.coupons_allocate(
        lines={"a": 1000, "b": 1000},
        candidates=[
            candidate(0, series_id=7, reasons=["already_redeemed"]),
            candidate(1, series_id=7),
            candidate(2, series_id=7),
        ],
    )
    assert [o.reasons for o in outcomes] == [("already_redeemed",), (), (rules.SERIES_ONCE_PER_BASKET,)]


def test_spread_without_caps_puts_the_remainder_on_the_largest_weight_then_the_first_ref():
    assert rules.spread(10, {"b": 1, "a": 1, "c": 1}) == {"b": 3, "a": 4, "c": 3}
    assert rules.spread(7, {"a": 0, "b": 0}) == {"a": 0, "b": 0}


def test_eligible_line_refs_of_a_series_with_skus_and_without():
    line_skus = {"1": "MILK", "2": "BREAD"}
    assert rules.eligible_line_refs(skus=["BREAD"], line_skus=line_skus) == {"2"}
    assert rules.eligible_line_refs(skus=None, line_skus=line_skus) == {"1", "2"}
