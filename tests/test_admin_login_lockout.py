"""The admin login locks a username out at one address after repeated failures (django-axes)."""

import pytest
from axes.models import AccessAttempt
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client, override_settings

pytestmark = pytest.mark.django_db

LOGIN = "/admin/login/?next=/admin/"
PASSWORD = "correct horse battery staple"


@pytest.fixture
def operator():
    return get_user_model().objects.create_superuser("operator", "operator@example.com", PASSWORD)


def log_in(password, *, username="operator", address="203.0.113.9"):
    browser = Client(REMOTE_ADDR=address)
    response = browser.post(LOGIN, {"username": username, "password": password})
    return response, browser


def logged_in(response, browser):
    return response.status_code == 302 and browser.get("/admin/").status_code == 200


@override_settings(AXES_FAILURE_LIMIT=3)
def test_repeated_failures_lock_the_account_out_even_with_the_right_password(operator):
    assert [log_in("wrong")[0].status_code for _ in range(2)] == [200, 200]  # the form again, with its error
    assert log_in("wrong")[0].status_code == 429
    response, browser = log_in(PASSWORD)
    assert response.status_code == 429
    assert not logged_in(response, browser)
    assert AccessAttempt.objects.get(username="operator").failures_since_start == 4  # the try while locked counts


@override_settings(AXES_FAILURE_LIMIT=3)
def test_the_lockout_is_for_that_username_at_that_address(operator):
    for _ in range(3):
        log_in("wrong")
    assert logged_in(*log_in(PASSWORD, address="198.51.100.4"))  # the operator elsewhere
    get_user_model().objects.create_superuser("colleague", "c@example.com", PASSWORD)
    assert logged_in(*log_in(PASSWORD, username="colleague"))  # a colleague at the same address


@override_settings(AXES_FAILURE_LIMIT=2)
def test_unlocking_in_the_axes_admin_lets_the_operator_in(operator, admin_client):
    for _ in range(2):
        log_in("wrong")
    assert log_in(PASSWORD)[0].status_code == 429
    listing = admin_client.get("/admin/axes/accessattempt/")
    assert listing.status_code == 200 and b"operator" in listing.content
    attempt = AccessAttempt.objects.get(username="operator")
    admin_client.post(
        "/admin/axes/accessattempt/",
        {"action": "delete_selected", "_selected_action": [attempt.pk], "post": "yes"},
    )
    assert not AccessAttempt.objects.exists()
    assert logged_in(*log_in(PASSWORD))


@override_settings(AXES_FAILURE_LIMIT=2)
def test_axes_reset_username_lets_the_operator_in(operator):
    for _ in range(2):
        log_in("wrong")
    assert log_in(PASSWORD)[0].status_code == 429
    call_command("axes_reset_username", "operator")
    assert logged_in(*log_in(PASSWORD))


@override_settings(AXES_FAILURE_LIMIT=2, TRUSTED_PROXIES=["10.0.0.0/8"])
def test_behind_a_trusted_proxy_the_lockout_is_per_forwarded_address(operator):
    def via_proxy(password, forwarded):
        browser = Client(REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR=forwarded)
        return browser.post(LOGIN, {"username": "operator", "password": password}), browser

    for _ in range(2):
        via_proxy("wrong", "203.0.113.9")
    assert via_proxy(PASSWORD, "203.0.113.9")[0].status_code == 429
    assert logged_in(*via_proxy(PASSWORD, "198.51.100.4"))
