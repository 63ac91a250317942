"""The admin in a real browser: Debian's Chromium driven by pytest-playwright against Django's live server.

Playwright's own browser download is not used; the system Chromium is (`apt-get install chromium`, which
`.ci/run` does). Each test gets a fresh live server database, the demo data where a journey needs it, and a
logged-in page. Screenshots land in docs/screenshots/ when a test asks for one.
"""

import os
import shutil
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in the test's thread; the ORM calls the tests make there are
# ordinary synchronous calls, so Django's async-safety guard does not apply.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
ADMIN_PASSWORD = "browser-test-Passw0rd!"


def pytest_collection_modifyitems(config, items):
    if not Path(CHROMIUM).exists():
        skip = pytest.mark.skip(reason=f"no Chromium at {CHROMIUM} (apt-get install chromium)")
        for item in items:
            if "tests/browser/" in str(item.fspath):
                item.add_marker(skip)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": ["--no-sandbox"]}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": {"width": 1440, "height": 900}, "locale": "en-GB"}


@pytest.fixture
def superuser(transactional_db):
    from django.contrib.auth import get_user_model

    return get_user_model().objects.create_superuser("browser-admin", "admin@example.com", ADMIN_PASSWORD)


def admin_login(page, live_server, user, password=ADMIN_PASSWORD):
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("input[name=username]", user.username)
    page.fill("input[name=password]", password)
    page.click("[type=submit]")
    page.wait_for_url(f"{live_server.url}/admin/")


@pytest.fixture
def admin_page(page, live_server, superuser):
    """A Chromium page logged in to the admin as a superuser."""
    admin_login(page, live_server, superuser)
    return page


def screenshot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
