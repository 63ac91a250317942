"""The admin's front door in Chromium: a staff login lands on the index, a wrong password does not."""

import pytest

from tests.browser.conftest import ADMIN_PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)


def test_staff_login_lands_on_the_admin_index(admin_page, live_server):
    assert admin_page.url == f"{live_server.url}/admin/"
    assert admin_page.locator("body").inner_text().strip() != ""


def test_wrong_password_stays_on_the_login_page_with_a_message(page, live_server, superuser):
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("input[name=username]", superuser.username)
    page.fill("input[name=password]", ADMIN_PASSWORD + "x")
    page.click("[type=submit]")
    assert "/admin/login/" in page.url
    assert "correct username and password" in page.locator("body").inner_text()
