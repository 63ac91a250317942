"""Losing the database answers 503 with Retry-After (problem details on the API), never 500.

The default connection is pointed at a database that is not there (a closed port on PostgreSQL, a
path that cannot exist on SQLite), so the errors are the driver's own.
"""

import json
import socket

import pytest
from django.db import connections
from django.test import Client


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # free once closed: nothing listens there


@pytest.fixture
def database_gone(django_db_blocker):
    original = connections["default"]
    settings_dict = dict(original.settings_dict)
    if original.vendor == "postgresql":
        settings_dict.update(HOST="127.0.0.1", PORT=str(closed_port()))
    else:
        settings_dict["NAME"] = "/nonexistent-offerdesk-directory/db.sqlite3"
    unreachable = original.__class__(settings_dict, "default")
    connections["default"] = unreachable
    try:
        with django_db_blocker.unblock():
            yield
    finally:
        unreachable.close()
        connections["default"] = original


def assert_service_unavailable_problem(response):
    assert response.status_code == 503, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert response["Retry-After"] == "5"
    body = json.loads(response.content)
    assert (body["status"], body["code"], body["type"]) == (503, "service_unavailable",
                                                            "urn:offerdesk:problem:service_unavailable")  # fmt: skip


def test_drf_view_without_its_database_answers_503_problem(database_gone):
    response = Client().get("/api/v1/offers", HTTP_AUTHORIZATION="Token some-token")
    assert_service_unavailable_problem(response)


def test_lean_till_view_without_its_database_answers_503_problem(database_gone):
    body = {"code": "ABC", "member": "M-1", "store": "S-1", "bill_amount": "10.00", "transaction_id": "T-1"}
    response = Client().post("/api/v1/coupons/redeem", body, content_type="application/json",
                             HTTP_AUTHORIZATION="Token some-token", HTTP_IDEMPOTENCY_KEY="k-1")  # fmt: skip
    assert_service_unavailable_problem(response)


def test_admin_without_its_database_answers_a_plain_503_page(database_gone):
    client = Client()
    client.cookies["sessionid"] = "a-session-the-database-would-hold"
    response = client.get("/admin/")
    assert response.status_code == 503
    assert response["Content-Type"].startswith("text/html")
    assert response["Retry-After"] == "5"
    assert b"Service unavailable" in response.content


def test_database_errors_raised_outside_a_view_answer_503_too(database_gone, rf):
    from django.db import OperationalError

    from config.api.problems import api_aware_500

    try:
        connections["default"].ensure_connection()  # what a middleware saving the session would meet
    except OperationalError:
        response = api_aware_500(rf.get("/api/v1/offers"))
    assert_service_unavailable_problem(response)
