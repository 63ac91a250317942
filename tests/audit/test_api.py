"""GET /api/v1/audit-events: one object's history for member care and marketers; bad filters are 400."""

import pytest

from config.actors import Actor
from exports.models import ExportDefinition, ExportRun
from members.services import points_adjust
from rewards.services import reward_create
from tests.exports.factories import ExportDefinitionFactory
from tests.members.factories import MemberFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/audit-events"
CARE = Actor(name="carl", channel="api:member_care")


@pytest.fixture
def histories():
    member = MemberFactory()
    points_adjust(member=member, points=30, reason="goodwill", actor=CARE)
    reward = reward_create(external_id="R-1", name="Cinema", cost_points=500, actor=CARE)
    return member, reward


def test_audit_events_filtered_by_object_give_that_objects_history(member_care, histories):
    member, _ = histories

    response = member_care.get(URL, {"object_type": "members.member", "object_id": str(member.pk)})

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 1
    (event,) = body["results"]
    assert (event["action"], event["actor"], event["channel"]) == ("points_adjust", "carl", "api:member_care")
    assert event["changes"] == {"points_balance": [0, 30]}
    assert (event["object_type"], event["object_id"]) == ("members.member", str(member.pk))


def test_audit_events_list_is_paginated_and_filtered_by_action(marketer, histories):
    everything = marketer.get(URL, {"page_size": 1}).json()
    creates = marketer.get(URL, {"action": "create"}).json()

    # the marketer's own API client was created (and recorded) first
    assert (everything["count"], len(everything["results"]), everything["next"] is not None) == (3, 1, True)
    assert [event["object_type"] for event in creates["results"]] == ["rewards.reward", "api.apiclient"]


def test_audit_events_with_an_unknown_object_answer_an_empty_page(marketer, histories):
    response = marketer.get(URL, {"object_type": "coupons.couponseries", "object_id": "no-such-id"})

    assert (response.status_code, response.json()["count"]) == (200, 0)


@pytest.mark.parametrize(
    "query",
    [
        {"object_type": "Members.Member"},
        {"object_type": "members"},
        {"object_type": "a." + "b" * 200},
        {"object_id": "9" * 65},
        {"action": "erase"},
        {"page_size": "0"},
    ],
)
def test_audit_events_bad_filter_is_a_400_problem(marketer, query):
    response = marketer.get(URL, query)

    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/problem+json")
    assert set(response.json()["errors"]) == set(query)


def test_audit_events_are_refused_to_a_till(pos):
    response = pos.get(URL)

    assert (response.status_code, response.json()["code"]) == (403, "permission_denied")


def test_deleting_an_export_definition_that_has_run_answers_409_and_keeps_it(marketer):
    definition = ExportDefinitionFactory()
    ExportRun.objects.create(definition=definition, actor="t", channel="t").events.create(
        new_status="queued", actor="t", channel="t"
    )

    response = marketer.delete(f"/api/v1/export-definitions/{definition.pk}")

    assert (response.status_code, response.json()["code"]) == (409, "history_kept")
    assert ExportDefinition.objects.filter(pk=definition.pk).exists()
