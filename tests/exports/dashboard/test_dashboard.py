"""The dashboard's daily figures (rebuilt set-wise, idempotent) and the admin index that reads them."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from coupons.models import BulkIssueJob
from exports.dashboard.models import DailyFigure
from exports.dashboard.services import dashboard_days_refresh, dashboard_recent_refresh
from exports.tasks import dashboard_refresh_task
from members.models import PointsEntry
from tests.coupons.factories import BulkIssueJobFactory, CouponFactory, CouponSeriesFactory
from tests.exports.reports.conftest import redeem
from tests.members.factories import MemberFactory
from tests.offers.factories import OfferFactory, OfferResponseFactory

pytestmark = pytest.mark.django_db
Metric = DailyFigure.Metric


def figures(metric, **filters):
    return {
        (figure.day, figure.scope_id, figure.currency): (figure.count, figure.amount)
        for figure in DailyFigure.objects.filter(metric=metric, **filters)
    }


@pytest.fixture
def program():
    """Two series of one offer and one of another; coupons issued today and two days ago, redemptions, a
    response, points both ways and coupons expiring in three days."""
    now = timezone.now()
    today, two_days_ago = timezone.localdate(), timezone.localdate() - timedelta(days=2)
    summer = OfferFactory(name="Summer")
    a = CouponSeriesFactory(name="A", offer=summer, discount_value=5, discount_currency="USD")
    b = CouponSeriesFactory(name="B", offer=summer, discount_value=10, discount_currency="EUR")
    c = CouponSeriesFactory(name="C", discount_value=2, discount_currency="USD")
    for _ in range(3):
        CouponFactory(series=a, issued_at=now, expires_at=now + timedelta(days=3))
    CouponFactory(series=b, issued_at=now - timedelta(days=2))
    redeem(CouponFactory(series=a, status="redeemed", issued_at=now), on=now, discount="5.00")
    redeem(CouponFactory(series=c, status="redeemed", issued_at=now), on=now, discount="2.00")
    redeem(CouponFactory(series=c, issued_at=now), on=now, discount="2.00", reversed_on=now)  # does not count
    OfferResponseFactory(offer=summer)
    member = MemberFactory()
    for points in (100, -40):
        PointsEntry.objects.create(member=member, points=points, balance_after=60, kind="adjustment", actor="t",
                                   channel="cli")  # fmt: skip
    return {"today": today, "two_days_ago": two_days_ago, "a": a, "b": b, "c": c, "summer": summer}


def test_dashboard_refresh_counts_each_day_and_scope(program):
    today, earlier, a, c = program["today"], program["two_days_ago"], program["a"], program["c"]

    dashboard_days_refresh(days=[earlier, today])

    assert figures(Metric.ISSUED) == {(today, 0, ""): (6, 0), (earlier, 0, ""): (1, 0)}
    assert figures(Metric.SERIES_REDEMPTIONS) == {
        (today, a.pk, "USD"): (1, Decimal("5.00")),
        (today, c.pk, "USD"): (1, Decimal("2.00")),
    }
    assert figures(Metric.OFFER_REDEMPTIONS) == {
        (today, program["summer"].pk, ""): (1, 0),
        (today, c.offer_id, ""): (1, 0),
    }
    assert figures(Metric.RESPONSES) == {(today, 0, ""): (1, 0)}
    assert figures(Metric.POINTS_AWARDED) == {(today, 0, ""): (100, 0)}
    assert figures(Metric.POINTS_SPENT) == {(today, 0, ""): (40, 0)}
    assert figures(Metric.EXPIRING) == {(today + timedelta(days=3), 0, ""): (3, 0)}
    # the liability report's open coupons summed per currency: USD is A's three (5 each) and C's reinstated one (2)
    assert figures(Metric.LIABILITY) == {
        (today, 0, "EUR"): (1, Decimal("10.00")),
        (today, 0, "USD"): (4, Decimal("17.00")),
    }


def test_dashboard_refresh_again_replaces_rather_than_adds(program):
    days = [program["two_days_ago"], program["today"]]
    first = dashboard_days_refresh(days=days)
    again = dashboard_days_refresh(days=days)
    assert first == again == DailyFigure.objects.count()
    assert figures(Metric.ISSUED)[(program["today"], 0, "")] == (6, 0)


def test_dashboard_refresh_of_one_day_leaves_the_others(program):
    dashboard_days_refresh(days=[program["two_days_ago"], program["today"]])
    dashboard_days_refresh(days=[program["today"]])
    assert figures(Metric.ISSUED)[(program["two_days_ago"], 0, "")] == (1, 0)


def test_dashboard_refresh_task_rebuilds_today_and_yesterday(program):
    result = dashboard_refresh_task.apply(kwargs={"days_back": 1}).get()
    assert result["figures"] == DailyFigure.objects.count() > 0
    assert not DailyFigure.objects.filter(day=program["two_days_ago"]).exists()
    assert dashboard_recent_refresh(days_back=2) == DailyFigure.objects.count()
    assert DailyFigure.objects.filter(day=program["two_days_ago"], metric=Metric.ISSUED).exists()


def test_dashboard_shows_the_figures_in_words(admin_client, program):
    dashboard_days_refresh(days=[program["two_days_ago"], program["today"]])
    BulkIssueJobFactory(series=program["a"], status=BulkIssueJob.Status.RUNNING, total_members=200)

    html = admin_client.get(reverse("admin:index")).content.decode()

    assert 'id="dashboard"' in html and html.count('class="chart"') == 4
    assert "Top series by redemptions" in html and "Top offers by redemptions" in html
    top_series = html[html.index("dashboard-top-series") : html.index("dashboard-top-offers")]
    assert reverse("admin:coupons_couponseries_change", args=[program["a"].pk]) in top_series
    liability = html[html.index("dashboard-liability") :]
    assert 'data-currency="USD"' in liability and "17.00" in liability
    assert "Bulk issue: A" in html and "of 200" in html
    assert "3 coupons" in html  # expiring in the next 7 days
    assert "by day in UTC" in html


def test_dashboard_runs_fixed_queries_whatever_the_program(admin_client, program):
    def index_queries():
        with CaptureQueriesContext(connection) as captured:
            admin_client.get(reverse("admin:index"))
        return len(captured)

    dashboard_days_refresh(days=[program["today"]])
    index_queries()
    few = index_queries()
    for n in range(8):
        series = CouponSeriesFactory(name=f"More {n}")
        redeem(CouponFactory(series=series), on=timezone.now(), discount="1.00")
        BulkIssueJobFactory(series=series, status=BulkIssueJob.Status.RUNNING)
    dashboard_days_refresh(days=[program["today"] - timedelta(days=n) for n in range(90)])
    assert index_queries() == few


def test_dashboard_without_figures_says_so(admin_client):
    html = admin_client.get(reverse("admin:index")).content.decode()
    assert "The figures have not been computed yet" in html
    assert "No bulk issue, upload or export is running." in html
