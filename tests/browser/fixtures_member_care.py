"""Member care's journeys start from the demo data and a member page opened the way an agent opens it."""

import io

import pytest
from django.core.management import call_command

from tests.browser.conftest import ADMIN_PASSWORD


@pytest.fixture
def demo_data(transactional_db):
    call_command("seed_demo", stdout=io.StringIO())


MEMBERS = "/admin/members/member/"


@pytest.fixture
def member_page(page, live_server, superuser, demo_data):
    """The first demo member's page, found by mobile number from the members list after logging in."""
    page.goto(f"{live_server.url}/admin/login/?next={MEMBERS}")
    page.fill("input[name=username]", superuser.username)
    page.fill("input[name=password]", ADMIN_PASSWORD)
    page.click("[type=submit]")
    page.wait_for_url(f"{live_server.url}{MEMBERS}")
    page.fill("input[name=q]", "+15550000001")
    page.keyboard.press("Enter")
    page.wait_for_url("**/admin/members/member/?q=*")
    page.get_by_role("link", name="M000001").first.click()
    page.wait_for_selector("#member-360")
    return page
