from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.test import override_settings

from coupons.issuance.validity import add_month_ends, coupon_expires_at, coupon_redeemable_from

UTC = ZoneInfo("UTC")
ISSUED = datetime(2026, 11, 12, 15, 30, tzinfo=UTC)


def eod(y, m, d):
    return datetime(y, m, d, 23, 59, 59, 999999, tzinfo=UTC)


pytestmark = pytest.mark.usefixtures("utc")


@pytest.fixture
def utc():
    with override_settings(TIME_ZONE="UTC"):
        yield


@pytest.mark.parametrize(
    ("days", "expected"), [(0, eod(2026, 11, 12)), (1, eod(2026, 11, 13)), (30, eod(2026, 12, 12))]
)
def test_days_from_issue_ends_at_end_of_that_day(days, expected):
    assert coupon_expires_at(mode="days_from_issue", issued_at=ISSUED, days=days, months=None,
                             offer_ends_at=None) == expected  # fmt: skip


@pytest.mark.parametrize(
    ("months", "expected"),
    [(0, eod(2026, 11, 30)), (1, eod(2026, 12, 31)), (2, eod(2027, 1, 31)), (3, eod(2027, 2, 28))],
)
def test_month_ends_from_issue_follow_the_seed(months, expected):
    assert coupon_expires_at(mode="month_ends_from_issue", issued_at=ISSUED, days=None, months=months,
                             offer_ends_at=None) == expected  # fmt: skip


def test_month_ends_handle_leap_years_and_year_ends():
    assert add_month_ends(date(2027, 12, 31), 2) == date(2028, 2, 29)
    assert add_month_ends(date(2026, 1, 31), 0) == date(2026, 1, 31)


def test_expiry_never_after_the_offer_ends():
    offer_end = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
    assert coupon_expires_at(mode="days_from_issue", issued_at=ISSUED, days=30, months=None,
                             offer_ends_at=offer_end) == offer_end  # fmt: skip
    assert coupon_expires_at(mode="month_ends_from_issue", issued_at=ISSUED, days=None, months=1,
                             offer_ends_at=offer_end) == offer_end  # fmt: skip
    assert coupon_expires_at(mode="days_from_issue", issued_at=ISSUED, days=1, months=None,
                             offer_ends_at=offer_end) == eod(2026, 11, 13)  # fmt: skip


def test_with_offer_expires_with_the_offer():
    offer_end = datetime(2027, 1, 1, tzinfo=UTC)
    assert coupon_expires_at(mode="with_offer", issued_at=ISSUED, days=None, months=None,
                             offer_ends_at=offer_end) == offer_end  # fmt: skip


def test_end_of_day_is_read_in_the_program_time_zone():
    with override_settings(TIME_ZONE="America/New_York"):
        late = datetime(2026, 11, 13, 3, 0, tzinfo=UTC)  # still 12 November in New York
        expires = coupon_expires_at(mode="days_from_issue", issued_at=late, days=0, months=None, offer_ends_at=None)
    assert expires.date() == date(2026, 11, 12)
    assert expires.utcoffset() == timedelta(hours=-5)


def test_redemption_start_days_after_issue_counts_dates_only():
    start = coupon_redeemable_from(mode="days_after_issue", issued_at=ISSUED, days=1, start_date=None)
    assert start == datetime(2026, 11, 13, tzinfo=UTC)
    assert coupon_redeemable_from(mode="on_issue", issued_at=ISSUED, days=None, start_date=None) == ISSUED


def test_redemption_from_date_waits_for_both_the_date_and_the_days():
    start = coupon_redeemable_from(mode="from_date", issued_at=ISSUED, days=30, start_date=date(2026, 11, 20))
    assert start == datetime(2026, 12, 12, tzinfo=UTC)
    start = coupon_redeemable_from(mode="from_date", issued_at=ISSUED, days=0, start_date=date(2026, 11, 20))
    assert start == datetime(2026, 11, 20, tzinfo=UTC)
