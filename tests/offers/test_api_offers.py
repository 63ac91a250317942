from datetime import timedelta

import pytest
from django.utils import timezone

from offers.models import Offer, OfferEvent
from tests.members.factories import SegmentFactory
from tests.offers.factories import LimitFactory, OfferFactory

pytestmark = pytest.mark.django_db


def offer_payload(**overrides):
    body = {
        "external_id": "SUMMER-1",
        "name": "Summer points",
        "category": "grocery",
        "publish_at": "2026-01-01T00:00:00Z",
        "expire_at": "2099-01-01T00:00:00Z",
        "usage_start": None,
        "usage_end": None,
        "requires_activation": True,
        "allow_multiple_responses": False,
        "fulfillment_flow": "standard",
        "earning_mechanism": {
            "behavior": {"type": "purchase_product", "sku": "MILK", "min_quantity": 2},
            "award": {"type": "points", "points": 50},
        },
        "audiences": [{"type": "age", "min_age": 18, "max_age": None}, {"type": "segment", "segment": "vip"}],
        "limits": [
            {"scope": "global", "kind": "fulfillment", "max_count": 4000},
            {"scope": "member", "kind": "fulfillment", "max_count": 2},
        ],
        "marketing_contents": [{"locale": "en-US", "title": "Milk deal", "description": "", "image_url": ""}],
    }
    body.update(overrides)
    return body


def test_offer_create_returns_201_with_components_and_global_statuses(marketer):
    SegmentFactory(code="vip")

    response = marketer.post("/api/v1/offers", offer_payload(), format="json")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["visible_status"] == "visible"
    assert body["activation_status"] == "requires_activation"
    assert "eligible" not in body
    assert body["earning_mechanism"] == {
        "behavior": {"type": "purchase_product", "sku": "MILK", "min_quantity": 2},
        "award": {"type": "points", "points": 50},
    }
    assert body["audiences"] == [
        {"type": "age", "min_age": 18, "max_age": None},
        {"type": "segment", "segment": "vip"},
    ]
    assert body["limits"][0] == {"scope": "global", "kind": "fulfillment", "max_count": 4000, "used_count": 0}
    assert body["marketing_contents"][0]["title"] == "Milk deal"
    assert body["usage_always"] is True
    assert OfferEvent.objects.filter(offer_id=body["id"], kind="created").exists()


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"expire_at": "2025-01-01T00:00:00Z"}, "expire_at"),
        ({"fulfillment_flow": "teleport"}, "fulfillment_flow"),
        ({"audiences": [{"type": "segment", "segment": "nope"}]}, "audiences"),
        ({"audiences": [{"type": "age", "min_age": 40, "max_age": 30}]}, "audiences"),
        ({"audiences": [{"type": "age"}]}, "audiences"),
        ({"limits": [{"scope": "global", "kind": "fulfillment", "max_count": 1}] * 2}, "limits"),
        ({"limits": [{"scope": "galaxy", "kind": "fulfillment", "max_count": 1}]}, "limits"),
        ({"earning_mechanism": {"behavior": {"type": "spend"}, "award": {"type": "points", "points": 1}}}, None),
        ({"earning_mechanism": {"behavior": {"type": "purchase_product"}, "award": {"type": "points"}}}, None),
        ({"publish_at": "yesterday"}, "publish_at"),
        ({"marketing_contents": [{"locale": "en", "title": "a"}, {"locale": "en", "title": "b"}]}, None),
    ],
)
def test_offer_create_rejects_bad_input_with_400(marketer, overrides, field):
    SegmentFactory(code="vip")

    response = marketer.post("/api/v1/offers", offer_payload(**overrides), format="json")

    assert response.status_code == 400, response.json()
    if field:
        assert field in response.json()["errors"]
    assert not Offer.objects.exists()


def test_offer_create_duplicate_external_id_is_409(marketer):
    OfferFactory(external_id="SUMMER-1")
    response = marketer.post("/api/v1/offers", offer_payload(audiences=[]), format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "offer_exists"


@pytest.mark.parametrize("role_fixture", ["pos", "member_care"])
def test_offer_create_forbidden_to_other_roles(request, role_fixture):
    client = request.getfixturevalue(role_fixture)
    assert client.post("/api/v1/offers", offer_payload(audiences=[]), format="json").status_code == 403


def test_offer_read_allowed_to_every_role_and_404_for_unknown(pos, member_care):
    offer = OfferFactory()
    assert pos.get(f"/api/v1/offers/{offer.pk}").status_code == 200
    assert member_care.get("/api/v1/offers").status_code == 200
    assert pos.get("/api/v1/offers/999999").status_code == 404


def test_offer_list_filters_by_global_visible_status(pos):
    now = timezone.now()
    visible = OfferFactory()
    discontinued = OfferFactory(discontinued_at=now - timedelta(minutes=1))
    unpublished = OfferFactory(publish_at=now + timedelta(days=1))
    expired = OfferFactory(expire_at=now - timedelta(seconds=1))
    limited = OfferFactory()
    LimitFactory(offer=limited, max_count=3, used_count=3)
    expected = {
        "visible": visible,
        "discontinued": discontinued,
        "unpublished": unpublished,
        "expired": expired,
        "global_limit": limited,
    }
    for status, offer in expected.items():
        body = pos.get(f"/api/v1/offers?visible_status={status}").json()
        assert [row["id"] for row in body["results"]] == [offer.pk], status
        assert body["results"][0]["visible_status"] == status
    assert pos.get("/api/v1/offers?visible_status=bogus").status_code == 400


def test_offer_list_query_count_does_not_grow_with_page(pos, django_assert_max_num_queries):
    for _ in range(30):
        offer = OfferFactory()
        LimitFactory(offer=offer, max_count=10)
    with django_assert_max_num_queries(12):
        response = pos.get("/api/v1/offers?page_size=100")
    assert response.json()["count"] == 30


def test_offer_patch_changes_fields_and_replaces_component_lists(marketer):
    SegmentFactory(code="vip")
    offer_id = marketer.post("/api/v1/offers", offer_payload(), format="json").json()["id"]

    response = marketer.patch(
        f"/api/v1/offers/{offer_id}",
        {"name": "Renamed", "limits": [{"scope": "global", "kind": "activation", "max_count": 5}]},
        format="json",
    )

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["name"] == "Renamed"
    assert body["limits"] == [{"scope": "global", "kind": "activation", "max_count": 5, "used_count": 0}]
    assert len(body["audiences"]) == 2  # not sent, unchanged


def test_offer_patch_rejects_expire_before_existing_publish(marketer):
    offer = OfferFactory(publish_at=timezone.now())
    response = marketer.patch(f"/api/v1/offers/{offer.pk}", {"expire_at": "2000-01-01T00:00:00Z"}, format="json")
    assert response.status_code == 400
    assert "expire_at" in response.json()["errors"]


def test_offer_patch_forbidden_to_pos_and_404_for_unknown(pos, marketer):
    offer = OfferFactory()
    assert pos.patch(f"/api/v1/offers/{offer.pk}", {"name": "x"}, format="json").status_code == 403
    assert marketer.patch("/api/v1/offers/999999", {"name": "x"}, format="json").status_code == 404


def test_offer_discontinue_sets_status_and_is_repeat_safe(marketer, pos):
    offer = OfferFactory()

    first = marketer.post(f"/api/v1/offers/{offer.pk}/discontinue")
    second = marketer.post(f"/api/v1/offers/{offer.pk}/discontinue")

    assert first.status_code == 200
    assert first.json()["visible_status"] == "discontinued"
    assert first.json()["discontinued"] is True
    assert second.json()["discontinued_at"] == first.json()["discontinued_at"]
    assert OfferEvent.objects.filter(offer=offer, kind="discontinued").count() == 1
    assert pos.post(f"/api/v1/offers/{offer.pk}/discontinue").status_code == 403
    assert marketer.post("/api/v1/offers/999999/discontinue").status_code == 404


def test_schema_stays_valid(marketer):
    response = marketer.get("/api/schema/")
    assert response.status_code == 200


@pytest.mark.parametrize(
    "change",
    [
        {"earning_mechanism": {"behavior": {"sku": "X"}, "award": {"points": 5}}},
        {"earning_mechanism": {"behavior": {}, "award": {}}},
        {"audiences": [{"min_age": 5}]},
        {"limits": [{"max_count": 5}]},
        {"marketing_contents": [{"title": "no locale"}]},
        {"audiences": "vip"},
    ],
)
def test_offer_patch_with_incomplete_components_is_400(marketer, change):
    offer = OfferFactory()
    response = marketer.patch(f"/api/v1/offers/{offer.pk}", change, format="json")
    assert response.status_code == 400, response.json()


def test_offer_patch_replaces_earning_mechanism_and_can_remove_it(marketer):
    offer = OfferFactory()
    mechanism = {
        "behavior": {"type": "spend", "min_amount": "20.00"},
        "award": {"type": "points_per_unit", "points_per_unit": 3},
    }
    body = marketer.patch(f"/api/v1/offers/{offer.pk}", {"earning_mechanism": mechanism}, format="json").json()
    assert body["earning_mechanism"] == {
        "behavior": {"type": "spend", "min_amount": "20.00"},
        "award": {"type": "points_per_unit", "points_per_unit": 3},
    }
    body = marketer.patch(f"/api/v1/offers/{offer.pk}", {"earning_mechanism": None}, format="json").json()
    assert body["earning_mechanism"] is None


@pytest.mark.parametrize(
    "overrides",
    [
        {"limits": [{"scope": "global", "kind": "fulfillment", "max_count": 10**12}]},
        {
            "earning_mechanism": {
                "behavior": {"type": "spend", "min_amount": "1"},
                "award": {"type": "points", "points": 10**12},
            }
        },
        {"audiences": [{"type": "age", "min_age": 10**6}]},
        {"external_id": "x" * 65},
    ],
)
def test_offer_create_out_of_range_numbers_are_400_not_500(marketer, overrides):
    response = marketer.post("/api/v1/offers", offer_payload(**{"audiences": [], **overrides}), format="json")
    assert response.status_code == 400
