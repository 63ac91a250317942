"""The marketer's screens in Chromium on the demo data: the dashboard with its charts, a coupon series' settings
in checkbox grids rather than JSON, and the marketer's journeys: create an offer and a coupon series on it, upload
customers with one bad row and download the report, start a bulk issue and see it finish, revoke coupons.

The test settings run Celery tasks eagerly (CELERY_TASK_ALWAYS_EAGER), in the live server's thread after the
request's commit, so an upload or a bulk issue has finished when the page the browser lands on is drawn; the
pages read the finished job from the database, as they do while a worker runs it.
"""

import csv
import io
from pathlib import Path

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

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
    admin_page.locator("a[x-on\\:click*=\"'redemption'\"]").click()  # the settings' Redemption section
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


def demo_series():
    from coupons.demo import DEMO_SERIES
    from coupons.models import CouponSeries

    return CouponSeries.objects.get(name=DEMO_SERIES)


def open_hub(page, live_server, series, tab=""):
    page.goto(f"{live_server.url}/admin/coupons/couponseries/{series.pk}/change/{'#' + tab if tab else ''}")
    page.locator("#series-hub").wait_for()


def page_messages(page) -> list[str]:
    return [text.strip() for text in page.locator("#main .messagelist li, #main [class*=message]").all_inner_texts()
            if text.strip()]  # fmt: skip


def fill_in(page, **values):
    for name, value in values.items():
        page.fill(f"#id_{name}", value)


def test_create_an_offer_and_a_coupon_series_on_it(admin_page, live_server, demo):
    from coupons.models import CouponSeries
    from offers.models import Offer

    page = admin_page
    page.goto(f"{live_server.url}/admin/offers/offer/add/")
    fill_in(page, external_id="SUMMER-26", name="Summer treats", category="seasonal", expire_at_0="2027-09-30",
            expire_at_1="23:00:00")  # fmt: skip
    page.locator("[name=_continue]").first.click()
    page.wait_for_load_state()
    offer = Offer.objects.get(external_id="SUMMER-26")
    assert page.locator("#offer-series").inner_text().count("No coupon series yet.") == 1

    page.click("#offer-series a:has-text('Add a coupon series')")
    page.wait_for_selector("#id_name")
    assert page.locator("#id_offer option:checked").inner_text().strip() == str(offer)
    page.select_option("#id_code_mode", "unique")
    page.select_option("#id_code_charset", "alphanumeric")
    fill_in(page, name="Summer 5 off", code_length="8", discount_value="5", discount_currency="USD")
    page.locator("[name=_continue]").first.click()
    page.locator("#series-hub").wait_for()

    series = CouponSeries.objects.get(name="Summer 5 off")
    assert series.offer == offer and series.code_length == 8
    for tab in ("Settings", "Coupons", "Uploads", "Bulk issues", "Redemptions"):
        assert page.locator("#series-hub-tabs a", has_text=tab).count() == 1
    page.goto(f"{live_server.url}/admin/offers/offer/{offer.pk}/change/")
    assert "Summer 5 off" in page.locator("#offer-series").inner_text()


def test_upload_customers_with_one_bad_row_shows_the_row_and_its_report(admin_page, live_server, demo):
    from coupons.models import Upload

    page = admin_page
    series = demo_series()
    open_hub(page, live_server, series)
    page.click("#upload-customers")
    page.locator("#upload-columns").wait_for()
    assert page.locator("#id_series option:checked").inner_text().strip() == series.name
    with page.expect_download() as template:
        page.locator("#upload-columns tr[data-kind=members] a.upload-template").click()
    assert Path(template.value.path()).read_text().splitlines()[0] == "external_id"

    page.set_input_files("#id_file", files=[{"name": "customers.csv", "mimeType": "text/csv",
                                             "buffer": b"external_id\nM000101\nNOBODY-42\n"}])  # fmt: skip
    page.locator("[type=submit][name=_save]").first.click()
    page.locator("#upload-errors").wait_for()

    upload = Upload.objects.get(series=series)
    assert (upload.status, upload.succeeded, upload.failed) == ("succeeded", 1, 1)
    row = page.locator("#upload-errors tr[data-code=invalid_external_id]")
    assert row.count() == 1
    assert "NOBODY-42" in row.inner_text() and "User does not exist with provided external id" in row.inner_text()
    assert row.locator("td").first.inner_text().strip() == "2"
    with page.expect_download() as report:
        page.click("#upload-error-report")
    lines = list(csv.reader(io.StringIO(Path(report.value.path()).read_text())))
    assert lines == [
        ["row", "identifier", "code", "message"],
        ["2", "NOBODY-42", "invalid_external_id", "User does not exist with provided external id"],
    ]


def test_a_refused_upload_shows_one_error(admin_page, live_server, demo):
    from coupons.models import Upload

    page = admin_page
    series = demo_series()
    page.goto(f"{live_server.url}/admin/coupons/upload/add/?series={series.pk}&kind=members")
    page.set_input_files("#id_file", files=[{"name": "customers.csv", "mimeType": "text/csv",
                                             "buffer": "external_id\nM000101\n".encode("utf-16")}])  # fmt: skip
    page.locator("[type=submit][name=_continue]").first.click()
    page.wait_for_load_state()
    assert not Upload.objects.exists()
    errors = page.locator(".errorlist li").all_inner_texts()
    assert len(errors) == 1 and "not UTF-8 text" in errors[0]
    assert "added successfully" not in page.content() and "doesn" not in page.content()


def test_start_a_bulk_issue_and_see_it_finish(admin_page, live_server, demo):
    from coupons.models import BulkIssueJob
    from members.models import Segment

    page = admin_page
    series = demo_series()
    vip = Segment.objects.get(code="vip")
    open_hub(page, live_server, series)
    page.click("#start-bulk-issue")
    page.select_option("#id_segment", label=vip.name)
    page.click("#bulk-issue-form button[type=submit]")
    page.locator("#series-hub").wait_for()

    job = BulkIssueJob.objects.get(series=series)
    assert job.status == "succeeded" and job.issued + job.skipped == vip.members.count()
    expect(page.locator("#bulk-issues-group")).to_be_visible()  # the redirect opens the Bulk issues tab
    row = page.locator(f"#series-bulk-jobs tr[data-status=succeeded]:has-text('Bulk issue {job.pk}')")
    assert row.count() == 1 and "Succeeded" in row.inner_text() and "100%" in row.inner_text()


def test_revoke_coupons_of_a_series(admin_page, live_server, demo):
    from coupons.models import Coupon

    page = admin_page
    series = demo_series()
    unredeemed = Coupon.objects.filter(series=series, status="issued").count()
    open_hub(page, live_server, series)
    page.click("#revoke-coupons")
    page.check("input[name=mode][value=all_unredeemed]")
    page.click("#revoke-form [type=submit]")
    page.locator("#revoke-confirmation").wait_for()
    assert f"{unredeemed} coupons will be revoked" in page.locator("#revoke-confirmation").inner_text()
    page.check("#revoke-confirmation input[name=confirm]")
    page.click("#revoke-form [type=submit]")
    page.wait_for_url("**/seriesrevokejob/**")

    assert Coupon.objects.filter(series=series, status="revoked").count() == unredeemed
    assert Coupon.objects.filter(series=series, status="issued").count() == 0
    open_hub(page, live_server, series, tab="coupons")
    assert page.locator("#coupon-status-counts [data-status=revoked] strong").inner_text() == str(unredeemed)


def test_series_hub_screenshot(admin_page, live_server, demo):
    page = admin_page
    series = demo_series()
    open_hub(page, live_server, series, tab="coupons")
    expect(page.locator("#coupons-group")).to_be_visible()
    assert page.locator("#series-coupons tbody tr").count() == 20
    assert page.locator("#id_offer").count() == 1 and page.locator("#id_offer_id").count() == 0
    page.click("#series-hub-tabs a[data-tab=general]")
    assert "marketing@example.com" in page.locator("#id_limit_notify_emails").input_value()
    assert '["' not in page.locator("#id_limit_notify_emails").input_value()
    page.locator("a[x-on\\:click*=\"'issual-and-reminders'\"]").click()
    expect(page.locator("#id_limit_notify_emails")).to_be_visible()
    screenshot(page, "series_hub_settings")
    page.click("#series-hub-tabs a[data-tab=redemptions]")
    page.wait_for_function("document.querySelector('#redemptions-group canvas.chart').width > 0")
    page.click("#series-hub-tabs a[data-tab=coupons]")
    page.set_viewport_size({"width": 1440, "height": page.evaluate("document.body.scrollHeight")})
    screenshot(page, "series_hub")
