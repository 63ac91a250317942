import re

import pytest

from tests.members.factories import MemberFactory

pytestmark = pytest.mark.django_db


def assert_problem(response, status, code):
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status
    assert body["code"] == code
    assert body["type"] == f"urn:offerdesk:problem:{code}"
    assert body["title"] and body["detail"]
    return body


def test_invalid_fields_answer_400_with_errors(marketer):
    body = assert_problem(
        marketer.post(
            "/api/v1/members", {"external_id": "", "email": "not-an-email", "birth_date": "31/02"}, format="json"
        ),
        400,
        "invalid",
    )
    assert set(body["errors"]) == {"external_id", "email", "birth_date"}


def test_malformed_json_answers_400(marketer):
    response = marketer.post("/api/v1/members", "{not json", content_type="application/json")
    assert_problem(response, 400, "parse_error")


def test_wrong_typed_field_answers_400(marketer):
    MemberFactory(external_id="M-1")
    body = assert_problem(
        marketer.post("/api/v1/members/M-1/points", {"points": "lots", "reason": "x"}, format="json"), 400, "invalid"
    )
    assert "points" in body["errors"]


def test_unknown_member_answers_404(marketer):
    assert_problem(marketer.get("/api/v1/members/NOBODY"), 404, "not_found")


def test_unknown_api_path_answers_problem_404(marketer):
    assert_problem(marketer.get("/api/v1/no-such-thing"), 404, "not_found")


def test_rule_violation_answers_409_with_reasons(member_care):
    MemberFactory(external_id="M-1")
    body = assert_problem(
        member_care.post("/api/v1/members/M-1/points", {"points": -10, "reason": "oops"}, format="json"),
        409,
        "insufficient_points",
    )
    assert body["reasons"] == ["insufficient_points"]


def test_duplicate_member_answers_409(marketer):
    MemberFactory(external_id="M-1")
    assert_problem(marketer.post("/api/v1/members", {"external_id": "M-1"}, format="json"), 409, "member_exists")


def test_method_not_allowed_is_a_problem(marketer):
    assert_problem(marketer.delete("/api/v1/members"), 405, "method_not_allowed")


def test_schema_and_docs_are_served(anonymous):
    schema = anonymous.get("/api/schema/")
    assert schema.status_code == 200
    assert b"/api/v1/members/{external_id}/points" in schema.content
    assert anonymous.get("/api/docs/").status_code == 200


def test_api_docs_load_their_assets_from_this_server(anonymous):
    from django.contrib.staticfiles import finders

    html = anonymous.get("/api/docs/").content.decode()
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert len(assets) == 4  # favicon, stylesheet and the two scripts
    for url in assets:
        assert url.startswith("/static/"), url
        assert finders.find(url.removeprefix("/static/")), url
