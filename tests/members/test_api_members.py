import pytest

from members.models import Member, PointsEntry
from tests.members.factories import MemberFactory, OrgEntityFactory, SegmentFactory

pytestmark = pytest.mark.django_db


def test_create_member_with_segments(marketer):
    SegmentFactory(code="vip")
    response = marketer.post(
        "/api/v1/members",
        {
            "external_id": "M-42",
            "email": "a@example.com",
            "mobile": "+15551234567",
            "user_id": "u42",
            "first_name": "Zoë",
            "last_name": "Ng",
            "birth_date": "1990-02-28",
            "status": "active",
            "segments": ["vip"],
            "transaction_count": 3,
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["segments"] == ["vip"]
    assert body["points_balance"] == 0
    member = Member.objects.get(external_id="M-42")
    assert member.first_name == "Zoë"
    assert member.transaction_count == 3


def test_create_member_with_unknown_segment_or_bad_mobile_is_400(marketer):
    response = marketer.post(
        "/api/v1/members", {"external_id": "M-1", "segments": ["nope"], "mobile": "12"}, format="json"
    )
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"segments", "mobile"}
    assert not Member.objects.exists()


def test_get_member_includes_points_balance(pos):
    MemberFactory(external_id="M-1", points=120)
    body = pos.get("/api/v1/members/M-1").json()
    assert body["external_id"] == "M-1"
    assert body["points_balance"] == 120


def test_member_list_is_paginated_with_constant_queries(member_care, django_assert_max_num_queries):
    segment = SegmentFactory(code="vip")
    for _ in range(30):
        MemberFactory(segments=[segment])
    with django_assert_max_num_queries(5):
        body = member_care.get("/api/v1/members?page_size=25").json()
    assert body["count"] == 30
    assert len(body["results"]) == 25
    assert body["next"].endswith("page=2&page_size=25")
    assert body["results"][0]["segments"] == ["vip"]


def test_member_list_page_size_above_500_is_refused_naming_the_parameter(member_care):
    MemberFactory()
    assert member_care.get("/api/v1/members?page_size=500").json()["count"] == 1

    response = member_care.get("/api/v1/members?page_size=100000")

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["page_size"]


def test_patch_member_changes_only_sent_fields(member_care):
    MemberFactory(external_id="M-1", email="old@example.com", first_name="Ada")
    response = member_care.patch("/api/v1/members/M-1", {"email": "new@example.com"}, format="json")
    assert response.status_code == 200, response.content
    member = Member.objects.get(external_id="M-1")
    assert (member.email, member.first_name) == ("new@example.com", "Ada")


def test_points_adjustment_posts_ledger_entry_and_balance(member_care):
    MemberFactory(external_id="M-1", points=100)
    response = member_care.post("/api/v1/members/M-1/points", {"points": -30, "reason": "correction"}, format="json")
    assert response.status_code == 201
    assert response.json()["points_balance"] == 70
    entry = PointsEntry.objects.filter(member__external_id="M-1").first()
    assert (entry.points, entry.balance_after, entry.channel) == (-30, 70, "api:member_care")
    assert member_care.get("/api/v1/members/M-1").json()["points_balance"] == 70


def test_org_entity_tree_rules(marketer):
    OrgEntityFactory(type="zone", code="Z-1")
    ok = marketer.post(
        "/api/v1/org-entities",
        {
            "code": "S-1",
            "type": "store",
            "name": "One",
            "parent": "Z-1",
            "time_zone": "Europe/Paris",
            "currency": "eur",
        },
        format="json",
    )
    assert ok.status_code == 201, ok.content
    assert ok.json()["currency"] == "EUR"
    bad_tz = marketer.post(
        "/api/v1/org-entities",
        {"code": "S-2", "type": "store", "name": "Two", "time_zone": "Mars/Olympus"},
        format="json",
    )
    assert bad_tz.status_code == 400
    bad_parent = marketer.post(
        "/api/v1/org-entities", {"code": "Z-2", "type": "zone", "name": "Z", "parent": "S-1"}, format="json"
    )
    assert bad_parent.status_code == 400
    assert bad_parent.json()["code"] == "invalid_parent"
