"""The liability report: each figure against hand-built history, as of dates before and after each event."""

from datetime import date

import pytest
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from coupons.models import Coupon
from exports.reports.liability import liability_report
from tests.coupons.factories import CouponFactory, CouponSeriesFactory
from tests.exports.reports.conftest import at, issued, redeem

pytestmark = pytest.mark.django_db

URL = "/api/v1/reports/liability"


def figures(report):
    """(series name, currency) → (open count, open value, redeemed count, redeemed value, expired count,
    expired value, revoked count), as text the way the API sends money."""
    return {
        (row["series_name"], row["currency"]): (
            row["issued_open_count"], row["issued_open_value"], row["redeemed_count"], row["redeemed_value"],
            row["expired_count"], row["expired_value"], row["revoked_count"],
        )
        for row in report["coupons"]
    }  # fmt: skip


def test_liability_at_the_end_of_february(marketer, history):
    report = marketer.get(URL, {"as_of": "2026-02-28"}).json()
    assert report["as_of"] == "2026-02-28"
    assert figures(report) == {
        # open: only the one left alone (the March issue does not count yet); redeemed: one live and one
        # reversed only in March; expired: both past their date, swept or not; revoked in February
        ("A", "USD"): (1, "5.00", 2, "10.00", 2, "10.00", 1),
        ("A", "EUR"): (0, "0.00", 1, "4.60", 0, "0.00", 0),
        ("B", None): (1, "0.00", 0, "0.00", 0, "0.00", 0),
        ("B", "EUR"): (0, "0.00", 1, "3.20", 0, "0.00", 0),
        ("C", "EUR"): (1, "10.00", 0, "0.00", 1, "10.00", 0),
        ("M", "USD"): (1, "2.00", 2, "4.00", 0, "0.00", 0),  # multi-use: still owed after two uses
    }
    assert report["points"] == {"outstanding": 150, "value": "1.50", "currency": "USD"}


def test_liability_before_the_redemptions_expiries_and_revoke(marketer, history):
    report = marketer.get(URL, {"as_of": "2026-01-31"}).json()
    assert figures(report)[("A", "USD")] == (7, "35.00", 0, "0.00", 0, "0.00", 0)
    assert ("A", "EUR") not in figures(report)
    assert report["points"]["outstanding"] == 100


def test_liability_after_the_reversal(marketer, history):
    report = marketer.get(URL, {"as_of": "2026-03-31"}).json()
    # the reversed coupon is open again and the March issue counts; the live redemption stays
    assert figures(report)[("A", "USD")] == (3, "15.00", 1, "5.00", 2, "10.00", 1)
    assert report["points"]["outstanding"] == 120


def test_liability_before_anything_was_issued_is_empty(marketer, history):
    report = marketer.get(URL, {"as_of": "2025-12-31"}).json()
    assert report["coupons"] == [] and report["points"] == {"outstanding": 0, "value": "0.00", "currency": "USD"}


def test_liability_in_one_currency(marketer, history):
    report = marketer.get(URL, {"as_of": "2026-02-28", "currency": "eur"}).json()
    assert set(figures(report)) == {("A", "EUR"), ("B", "EUR"), ("C", "EUR")}


@override_settings(POINT_VALUE="0.005", POINT_VALUE_CURRENCY="EUR")
def test_liability_points_value_follows_the_setting(marketer, history):
    points = marketer.get(URL, {"as_of": "2026-02-28"}).json()["points"]
    assert points == {"outstanding": 150, "value": "0.75", "currency": "EUR"}


def test_liability_before_any_close_is_five_queries_whatever_the_number_of_coupons(history):
    # no day closed yet: the close looked for, then coupons, redemptions and points each read once, and the series
    def queries():
        with CaptureQueriesContext(connection) as captured:
            liability_report(as_of=date(2026, 2, 28))
        return len(captured)

    few = queries()
    series = CouponSeriesFactory(discount_currency="GBP")
    for n in range(30):
        redeem(issued(series, status="redeemed"), on=at(2, 1), discount="1.00") if n % 2 else issued(series)
    assert few == queries() == 5


def test_liability_today_by_default(marketer):
    CouponFactory(series=CouponSeriesFactory(discount_value=5, discount_currency="USD"))
    report = marketer.get(URL).json()
    assert report["coupons"][0]["issued_open_count"] == 1
    assert Coupon.objects.count() == 1


@pytest.mark.parametrize(
    "query",
    [
        {"as_of": "yesterday"}, {"as_of": "2026-02-30"}, {"as_of": "2026-13-01"}, {"as_of": ""},
        {"as_of": "9999-12-31"}, {"as_of": "0001-01-01"}, {"as_of": str(2**63)}, {"as_of": "2026-02-28T00:00:00"},
        {"as_of": "\uff12\uff10\uff12\uff16-\uff10\uff12-\uff12\uff18"}, {"currency": "US"}, {"currency": "EURO"},
        {"currency": ""}, {"currency": "€€€"}, {"currency": "12A"}, {"as_of": "2026-02-28\u200b"},
    ],
)  # fmt: skip
def test_liability_bad_as_of_or_currency_is_400_naming_it(marketer, query):
    response = marketer.get(URL, query)
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert set(response.json()["errors"]) == set(query)


def test_liability_is_for_marketers_only(pos, member_care, anonymous):
    assert pos.get(URL).status_code == 403
    assert member_care.get(URL).status_code == 403
    assert anonymous.get(URL).status_code == 401
