from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from config.client_time import ClientTimeWindow
from coupons.redemption import rules

AT = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)  # a Tuesday


def facts(**overrides):
    base = rules.RedemptionFacts(at=AT, local_at=AT, status="issued", is_owner=True, bill_amount=Decimal("50"))
    return replace(base, **overrides)


def reasons(**overrides):
    return rules.redemption_reasons(facts(**overrides))


def test_redemption_reasons_none_for_a_plain_issued_coupon():
    assert reasons() == []


def test_redemption_reasons_unknown_code_is_only_coupon_not_found():
    assert rules.redemption_reasons(None) == ["coupon_not_found"]


@pytest.mark.parametrize(
    ("status", "reason"),
    [("unissued", "not_issued"), ("revoked", "revoked"), ("expired", "expired"), ("redeemed", "already_redeemed")],
)
def test_redemption_reasons_status(status, reason):
    assert reasons(status=status) == [reason]


@pytest.mark.parametrize(
    ("at", "inside"),
    [(AT - timedelta(hours=72), True), (AT - timedelta(hours=72, microseconds=1), False),
     (AT + timedelta(minutes=5), True), (AT + timedelta(minutes=5, microseconds=1), False)],
)  # fmt: skip
def test_redemption_reasons_time_window_bounds_are_inclusive(at, inside):
    window = ClientTimeWindow(earliest=AT - timedelta(hours=72), latest=AT + timedelta(minutes=5))
    assert reasons(at=at, time_window=window) == ([] if inside else ["time_out_of_range"])


def test_redemption_reasons_time_out_of_range_comes_first_beside_the_others():
    window = ClientTimeWindow(earliest=AT + timedelta(days=1), latest=AT + timedelta(days=2))
    found = reasons(time_window=window, status="revoked", is_owner=False)
    assert found == ["time_out_of_range", "revoked", "not_owner"]


def test_redemption_reasons_not_owner_unless_anyone_may_redeem():
    assert reasons(is_owner=False) == ["not_owner"]
    assert reasons(is_owner=False, allow_anyone=True) == []


def test_redemption_reasons_expiry_boundary():
    assert reasons(expires_at=AT) == []
    assert reasons(expires_at=AT - timedelta(microseconds=1)) == ["expired"]


def test_redemption_reasons_start_boundary():
    assert reasons(redeemable_from=AT) == []
    assert reasons(redeemable_from=AT + timedelta(seconds=1)) == ["redemption_not_started"]


def test_redemption_reasons_store_inside_allowed_zone_may_redeem():
    assert reasons(allowed_store_ids=frozenset({7}), store_lineage_ids=frozenset({1, 2, 7})) == []
    assert reasons(allowed_store_ids=frozenset({7}), store_lineage_ids=frozenset({1, 2})) == ["store_not_allowed"]
    assert reasons(allowed_store_ids=None, store_lineage_ids=frozenset({1})) == []


def test_redemption_reasons_bill_bounds_are_inclusive():
    assert reasons(bill_amount=Decimal("10.00"), min_bill=Decimal("10.00")) == []
    assert reasons(bill_amount=Decimal("9.99"), min_bill=Decimal("10.00")) == ["bill_below_minimum"]
    assert reasons(bill_amount=Decimal("100.00"), max_bill=Decimal("100.00")) == []
    assert reasons(bill_amount=Decimal("100.01"), max_bill=Decimal("100.00")) == ["bill_above_maximum"]


def test_redemption_reasons_calendar_reads_local_time():
    local = AT.astimezone(ZoneInfo("Asia/Tokyo"))  # 21:00 on Tuesday the 10th
    assert reasons(local_at=local, hours=(21,)) == []
    assert reasons(local_at=local, hours=(12,)) == ["hour_not_allowed"]
    assert reasons(local_at=local, days_of_week=(1,)) == []
    assert reasons(local_at=local, days_of_week=(0, 2)) == ["day_of_week_not_allowed"]
    assert reasons(local_at=local, days_of_month=(10,)) == []
    late = datetime(2026, 3, 10, 16, 0, tzinfo=UTC).astimezone(ZoneInfo("Asia/Tokyo"))  # 01:00 on the 11th
    assert reasons(local_at=late, days_of_month=(10,)) == ["day_of_month_not_allowed"]


def test_redemption_reasons_gap_only_for_multi_use():
    last = AT - timedelta(days=2)
    assert reasons(multi_use=True, min_gap_days=2, member_last_redeemed_at=last) == []
    assert reasons(multi_use=True, min_gap_days=2, member_last_redeemed_at=last + timedelta(seconds=1)) == [
        "redemption_gap_not_met"
    ]
    assert reasons(multi_use=False, min_gap_days=2, member_last_redeemed_at=last + timedelta(seconds=1)) == []


def test_redemption_reasons_member_limit_for_multi_use():
    assert reasons(multi_use=True, max_per_member=3, member_redemptions=2) == []
    assert reasons(multi_use=True, max_per_member=3, member_redemptions=3) == ["member_redemption_limit_reached"]


def test_redemption_reasons_multi_use_redeemed_status_is_not_already_redeemed():
    assert reasons(multi_use=True, status="redeemed") == []


def test_redemption_reasons_series_limit():
    assert reasons(series_limit=5, series_redeemed=4) == []
    assert reasons(series_limit=5, series_redeemed=5) == ["series_redemption_limit_reached"]


def test_redemption_reasons_new_members():
    window = {"registered_from": date(2026, 1, 1), "registered_to": date(2026, 1, 31)}
    assert reasons(member_registered_on=date(2026, 1, 1), **window) == []
    assert reasons(member_registered_on=date(2026, 1, 31), **window) == []
    assert reasons(member_registered_on=date(2025, 12, 31), **window) == ["not_new_member"]
    assert reasons(member_registered_on=date(2026, 2, 1), **window) == ["not_new_member"]
    assert reasons(max_transactions=2, member_transactions=2) == []
    assert reasons(max_transactions=2, member_transactions=3) == ["not_new_member"]


def test_redemption_reasons_lists_every_failure_in_order():
    got = reasons(
        status="revoked",
        is_owner=False,
        expires_at=AT - timedelta(days=1),
        redeemable_from=AT + timedelta(days=1),
        allowed_store_ids=frozenset({9}),
        bill_amount=Decimal("1"),
        min_bill=Decimal("5"),
        days_of_week=(5,),
        days_of_month=(1,),
        hours=(3,),
        series_limit=0,
        max_transactions=0,
        member_transactions=1,
    )
    assert got == [
        "revoked", "expired", "not_owner", "redemption_not_started", "store_not_allowed", "bill_below_minimum",
        "day_of_week_not_allowed", "day_of_month_not_allowed", "hour_not_allowed",
        "series_redemption_limit_reached", "not_new_member",
    ]  # fmt: skip


def test_discount_amount_percentage_fixed_and_cap():
    assert rules.discount_amount(discount_type="percentage", value=Decimal("10"), bill_amount=Decimal("45.55")) == (
        Decimal("4.56")
    )
    assert rules.discount_amount(
        discount_type="fixed", value=Decimal("5"), bill_amount=Decimal("50"), rate=Decimal("1.1")
    ) == Decimal("5.50")
    assert rules.discount_amount(discount_type="fixed", value=Decimal("80"), bill_amount=Decimal("50")) == Decimal("50")
