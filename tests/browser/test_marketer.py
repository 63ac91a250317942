"""The marketer's screens in Chromium on the demo data: the dashboard with its charts, and a coupon series'
settings in checkbox grids rather than JSON."""

import pytest
from django.core.management import call_command

from tests.browser.conftest import screenshot

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def demo(transactional_db):
    from datetime import timedelta

    from django.utils import timezone

    from exports.dashboard.services import dashboard_days_refresh

    call_command("seed_demo", verbosity=0)
    today = timezone.localdate()
    dashboard_days_refresh(days=[today - timedelta(days=n) for n in range(90)])


def test_dashboard_draws_its_charts_and_panels(admin_page, live_server, demo):
    admin_page.goto(f"{live_server.url}/admin/")
    dashboard = admin_page.locator("#dashboard")
    dashboard.wait_for()
    assert admin_page.locator("#dashboard canvas.chart").count() == 4
    admin_page.wait_for_function("[...document.querySelectorAll('#dashboard canvas.chart')].every(c => c.width > 0)")
    text = dashboard.inner_text()
    for heading in ("Coupons issued", "Coupon redemptions", "Offer responses", "Points awarded",
                    "Top series by redemptions", "Top offers by redemptions", "Coupon liability", "Live jobs",
                    "Expiring in the next 7 days"):  # fmt: skip
        assert heading in text
    sidebar = admin_page.locator("nav, aside").first.inner_text()
    assert "Campaigns" in admin_page.content() and "Operations" in admin_page.content()
    assert "Clocked" not in sidebar and "Solar" not in sidebar
    screenshot(admin_page, "dashboard")


def test_series_settings_read_as_checkbox_grids(admin_page, live_server, demo):
    from coupons.models import CouponSeries

    series = CouponSeries.objects.order_by("pk").first()
    admin_page.goto(f"{live_server.url}/admin/coupons/couponseries/{series.pk}/change/")
    weekdays = admin_page.locator("#id_days_of_week input[type=checkbox]")
    assert weekdays.count() == 7
    assert admin_page.locator("#id_hours input[type=checkbox]").count() == 24
    assert admin_page.locator("textarea#id_days_of_week").count() == 0
    weekdays.nth(5).check()
    weekdays.nth(6).check()
    admin_page.locator("[name=_continue]").first.click()
    admin_page.wait_for_load_state()
    series.refresh_from_db()
    assert series.days_of_week == [5, 6], admin_page.locator(".errornote, .errorlist").all_inner_texts()
    screenshot(admin_page, "series_hub")
