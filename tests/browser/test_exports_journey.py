"""A marketer's export in Chromium on the demo data: define it (a dataset, its columns and a filter), run it, watch
the run finish, download the file and read it back."""

import csv
import io

import pytest
from django.core.management import call_command

from tests.browser.conftest import screenshot

pytestmark = pytest.mark.django_db(transaction=True)

COLUMNS = ["code", "status", "series_name", "issued_at", "expires_at"]


@pytest.fixture
def demo(transactional_db, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    call_command("seed_demo", verbosity=0)


def test_marketer_defines_runs_and_downloads_an_export(admin_page, live_server, demo):
    from coupons.models import Coupon

    page = admin_page
    page.goto(f"{live_server.url}/admin/exports/exportdefinition/add/")
    page.fill("#id_name", "Issued coupons for finance")
    page.select_option("#id_dataset", "coupons")
    assert page.locator("#id_dataset option[value=coupons]").inner_text() == "Coupons"  # the dataset by its name
    page.fill("#id_columns", ", ".join(COLUMNS))
    page.fill("#id_filters", '{"status": "issued"}')
    page.locator("[name=_continue]").first.click()
    page.wait_for_load_state()
    assert page.locator(".errornote, .errorlist").count() == 0, page.locator(".errorlist").all_inner_texts()

    page.get_by_role("button", name="Run now").click()
    page.wait_for_url("**/admin/exports/exportrun/*/change/")
    status = page.locator(".job-progress-status").first
    status.filter(has_text="Succeeded").wait_for(timeout=30_000)
    assert page.locator(".job-progress").first.get_attribute("data-finished") == "true"
    screenshot(page, "export_run")

    with page.expect_download() as download_info:
        page.locator("a[href$='/download/']").first.click()
    download = download_info.value
    rows = list(csv.reader(io.StringIO(download.path().read_text(encoding="utf-8"))))

    assert download.suggested_filename.endswith(".csv")
    assert rows[0] == COLUMNS
    assert len(rows) - 1 == Coupon.objects.filter(status=Coupon.Status.ISSUED).count() > 0
    assert {row[1] for row in rows[1:]} == {"issued"}
    page_text = page.locator("#content, main").first.inner_text()
    assert f"{len(rows) - 1}" in page_text  # the run's page says how many rows it wrote
