"""The members list's Import in Chromium: the file goes to a review page that lists each bad row in words; a clean
file's review offers "Confirm import", whose page says what was written."""

import pytest

from members.models import Member
from tests.browser.conftest import screenshot

pytestmark = pytest.mark.django_db(transaction=True)
HEADER = "external_id,email,mobile,user_id,first_name,last_name,birth_date,registered_at,status,transaction_count\n"


def member_row(number: int, email: str | None = None) -> str:
    return (f"M-{number},{email or f'm{number}@example.com'},+1555{number:07d},u{number},Kim{number},Lee,"
            "1990-01-01,2024-01-01T00:00:00Z,active,0\n")  # fmt: skip


def upload(page, live_server, tmp_path, content: str):
    path = tmp_path / "members.csv"
    path.write_text(content)
    page.goto(f"{live_server.url}/admin/members/member/import/")
    page.set_input_files("input[name=import_file]", str(path))
    page.select_option("select[name=format]", label="csv")
    page.click("form:has(input[name=import_file]) [type=submit]")
    page.wait_for_url("**/admin/jobs/importjob/*/change/")


def test_member_import_reviews_the_file_then_imports_it_once_confirmed(admin_page, live_server, tmp_path):
    bad = HEADER + member_row(1) + member_row(2, "not-an-email") + member_row(3).replace("1990-01-01", "31/02/90")
    upload(admin_page, live_server, tmp_path, bad)

    summary = admin_page.locator(".import-job-next").inner_text()
    assert "2 rows of 3 have errors" in summary
    rows = admin_page.locator(".import-job-issue-table tbody tr")
    assert rows.count() == 2
    assert "Enter a valid email address." in rows.nth(0).inner_text()
    assert admin_page.locator("button[name=confirm_import]").count() == 0
    screenshot(admin_page, "import_review_with_errors")

    upload(admin_page, live_server, tmp_path, HEADER + "".join(member_row(n) for n in range(1, 6)))
    assert "have no errors" in admin_page.locator(".import-job-next").inner_text()
    assert not Member.objects.exists()
    admin_page.click("button[name=confirm_import]")
    admin_page.wait_for_url("**/admin/jobs/importjob/*/change/")

    assert "Imported: 5 new" in admin_page.locator(".import-job-next").inner_text()
    assert Member.objects.count() == 5
    screenshot(admin_page, "import_done")
