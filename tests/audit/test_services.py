"""Set-up writes record who changed what, through which channel, with the old and new values of only the
fields that changed, in the transaction of the change."""

import datetime
from decimal import Decimal

import pytest

from audit.exceptions import HistoryKeptError
from audit.models import AuditEvent
from audit.selectors import audit_events_for, object_history
from audit.snapshots import changes_between, json_safe
from config.actors import Actor
from config.api.services import api_client_create, api_client_token_reissue
from exports import services as export_services
from exports.models import ExportRun
from members import services as member_services
from members.exceptions import PointsError
from offers import services as offer_services
from rewards.services import certificate_codes_generate, reward_create
from tests.exports.factories import ExportDefinitionFactory
from tests.members.factories import MemberFactory

pytestmark = pytest.mark.django_db

MARKETER = Actor(name="maria", channel="api:marketer")
CARE = Actor(name="carl", channel="admin")


def only_event(obj) -> AuditEvent:
    events = list(audit_events_for(obj))
    assert len(events) == 1, [event.action for event in events]
    return events[0]


def test_json_safe_turns_decimals_dates_and_times_into_text():
    at = datetime.datetime(2026, 6, 1, 9, 30, tzinfo=datetime.UTC)

    assert json_safe({"amount": Decimal("1.50"), "day": at.date(), "at": at, "ids": {3, 1}}) == {
        "amount": "1.50",
        "day": "2026-06-01",
        "at": "2026-06-01T09:30:00+00:00",
        "ids": [1, 3],
    }


def test_changes_between_keeps_only_the_fields_that_differ():
    assert changes_between({"a": 1, "b": 2, "c": 3}, {"a": 1, "b": 5, "d": 4}) == {
        "b": [2, 5],
        "c": [3, None],
        "d": [None, 4],
    }


def test_offer_component_update_records_only_the_changed_component_fields():
    offer = offer_services.offer_create(
        actor=MARKETER,
        external_id="OFF-1",
        name="Milk",
        limits=[{"scope": "global", "kind": "fulfillment", "max_count": 100}],
        marketing_contents=[{"locale": "en", "title": "Milk", "description": "", "image_url": ""}],
    )

    offer_services.offer_update(
        offer=offer,
        actor=CARE,
        limits=[{"scope": "global", "kind": "fulfillment", "max_count": 250}],
        marketing_contents=[{"locale": "en", "title": "Milk", "description": "", "image_url": ""}],
        earning_mechanism={"behavior_type": "spend", "min_amount": Decimal("50.00"), "award_type": "points",
                           "points": 20},
    )  # fmt: skip

    update = audit_events_for(offer).get(action=AuditEvent.Action.UPDATE)
    assert (update.actor, update.channel) == ("carl", "admin")
    assert update.changes == {
        "limits[global fulfillment].max_count": [100, 250],
        "earning_mechanism.award_type": [None, "points"],
        "earning_mechanism.behavior_type": [None, "spend"],
        "earning_mechanism.min_amount": [None, "50.00"],
        "earning_mechanism.points": [None, 20],
        "earning_mechanism.sku": [None, ""],
    }


def test_offer_update_that_changes_nothing_records_nothing():
    offer = offer_services.offer_create(actor=MARKETER, external_id="OFF-2", name="Bread")

    offer_services.offer_update(offer=offer, actor=MARKETER, name="Bread")

    assert only_event(offer).action == AuditEvent.Action.CREATE


def test_offer_audience_removed_records_its_old_values():
    segment_offer = offer_services.offer_create(
        actor=MARKETER, external_id="OFF-3", name="Seniors", audiences=[{"type": "age", "min_age": 60}]
    )

    offer_services.offer_update(offer=segment_offer, actor=MARKETER, audiences=[])

    update = audit_events_for(segment_offer).get(action=AuditEvent.Action.UPDATE)
    assert update.changes == {"audiences[1].min_age": [60, None], "audiences[1].type": ["age", None]}


def test_reward_create_records_its_values():
    reward = reward_create(external_id="R-1", name="Cinema", cost_points=500, actor=MARKETER)

    event = only_event(reward)
    assert (event.action, event.actor, event.channel) == ("create", "maria", "api:marketer")
    assert event.changes["cost_points"] == [None, 500]
    assert event.changes["name"] == [None, "Cinema"]


def test_certificate_code_generation_is_recorded_on_the_reward():
    reward = reward_create(external_id="R-2", name="Spa", cost_points=100, actor=MARKETER)

    certificate_codes_generate(count=5, reward=reward, length=10, charset="alphanumeric", actor=CARE)

    created, generated = audit_events_for(reward).order_by("id")
    assert created.action == generated.action == AuditEvent.Action.CREATE
    assert (generated.actor, generated.changes) == ("carl", {"codes_generated": [None, 5]})
    assert generated.summary == "5 certificate codes generated (10 alphanumeric characters)"


def test_certificate_code_generation_for_the_bank_is_recorded_on_the_bank():
    certificate_codes_generate(count=3, reward=None, length=8, charset="numeric", actor=CARE)

    generated = AuditEvent.objects.get(object_type="rewards.certificatecode", object_id="bank")
    assert (generated.object_repr, generated.changes) == ("Bank of certificate codes", {"codes_generated": [None, 3]})


def test_export_definition_create_update_delete_record_old_and_new_values():
    definition = export_services.export_definition_create(name="Members", dataset="members", actor=MARKETER)
    definition_id = definition.pk

    export_services.export_definition_update(definition=definition, actor=CARE, name="All members", active=False)
    export_services.export_definition_delete(definition=definition, actor=CARE)

    events = list(AuditEvent.objects.filter(object_type="exports.exportdefinition", object_id=str(definition_id))
                  .order_by("id"))  # fmt: skip
    assert [event.action for event in events] == ["create", "update", "delete"]
    assert events[1].changes == {"active": [True, False], "name": ["Members", "All members"]}
    assert events[1].channel == "admin"
    assert events[2].changes["name"] == ["All members", None]


def test_export_definition_that_has_run_is_not_deleted():
    definition = ExportDefinitionFactory()
    ExportRun.objects.create(definition=definition, actor="t", channel="test").events.create(
        new_status="queued", actor="t", channel="test"
    )

    with pytest.raises(HistoryKeptError) as refused:
        export_services.export_definition_delete(definition=definition, actor=CARE)

    assert (refused.value.code, refused.value.http_status) == ("history_kept", 409)
    assert "export run events" in refused.value.message
    definition.refresh_from_db()
    assert not audit_events_for(definition).exists()


def test_api_client_create_and_token_reissue_are_recorded_without_the_token():
    client, _ = api_client_create(name="till-7", role="marketer", actor=Actor.cli("create_api_client"))

    api_client_token_reissue(client=client, actor=CARE)

    created, reissued = audit_events_for(client).order_by("id")
    assert (created.channel, created.changes["role"]) == ("cli", [None, "marketer"])
    assert "key_hash" not in created.changes
    assert reissued.action == AuditEvent.Action.TOKEN_REISSUE
    assert reissued.changes["key_prefix"][1] == client.key_prefix


def test_member_update_records_the_changed_fields():
    member = MemberFactory(first_name="Ann")

    member_services.member_update(member=member, actor=CARE, first_name="Anna")

    assert only_event(member).changes == {"first_name": ["Ann", "Anna"]}


def test_points_adjustment_appears_in_the_members_history():
    member = MemberFactory()

    member_services.points_adjust(member=member, points=40, reason="goodwill", actor=CARE)
    member_services.points_adjust(member=member, points=-15, reason="correction", actor=CARE)

    rows = object_history(member)
    assert [(row.what, row.summary) for row in rows] == [
        ("Points adjusted", "-15 points: correction"),
        ("Points adjusted", "+40 points: goodwill"),
    ]
    assert rows[0].changes == [("points balance", 40, 25)]


def test_refused_points_adjustment_records_nothing():
    member = MemberFactory()

    with pytest.raises(PointsError):
        member_services.points_adjust(member=member, points=-5, reason="too much", actor=CARE)

    assert not audit_events_for(member).exists()
