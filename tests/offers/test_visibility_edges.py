"""Every membership-offer visible_status through the API, and the time-zone edges of ages and dates."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.test import override_settings
from django.utils import timezone

from config.actors import Actor
from offers import selectors
from offers.services import transaction_record
from tests.members.factories import MemberFactory, OrgEntityFactory, SegmentFactory
from tests.offers.factories import AudienceFactory, EarningMechanismFactory, LimitFactory, OfferFactory

pytestmark = pytest.mark.django_db


def test_membership_offer_api_returns_every_visible_status(pos, store):
    now = timezone.now()
    member = MemberFactory(birth_date=date(2015, 1, 1))
    offers = {
        "visible": OfferFactory(),
        "discontinued": OfferFactory(discontinued_at=now - timedelta(seconds=1)),
        "unpublished": OfferFactory(publish_at=now + timedelta(hours=1)),
        "expired": OfferFactory(expire_at=now - timedelta(seconds=1)),
        "global_limit": OfferFactory(),
        "member_limit": OfferFactory(),
        "age_restricted": OfferFactory(),
        "missing_required_segments": OfferFactory(),
    }
    LimitFactory(offer=offers["global_limit"], max_count=0)
    LimitFactory(offer=offers["member_limit"], scope="member", max_count=0)
    AudienceFactory(offer=offers["age_restricted"], min_age=18)
    AudienceFactory(
        offer=offers["missing_required_segments"], type="segment", min_age=None, segment=SegmentFactory(code="vip")
    )

    for status, offer in offers.items():
        body = pos.get(f"/api/v1/members/{member.external_id}/offers/{offer.pk}").json()
        assert body["visible_status"] == status
        assert body["eligible"] is (status == "visible")
        listed = pos.get(f"/api/v1/members/{member.external_id}/offers?visible_status={status}").json()
        assert [row["id"] for row in listed["results"]] == [offer.pk]


@pytest.mark.parametrize(
    "audience, limit, reason",
    [
        ({"min_age": 18}, None, "age_restricted"),
        ({"type": "segment", "min_age": None, "segment": "vip"}, None, "missing_required_segments"),
        (None, {"scope": "member", "kind": "activation", "max_count": 0}, "member_limit"),
    ],
)
def test_activate_refused_for_per_member_status_with_reason(pos, audience, limit, reason):
    offer = OfferFactory(opt_in=True)
    if audience:
        if audience.get("segment"):
            audience["segment"] = SegmentFactory(code=audience["segment"])
        AudienceFactory(offer=offer, **audience)
    if limit:
        LimitFactory(offer=offer, **limit)
    member = MemberFactory(birth_date=date(2015, 1, 1))

    response = pos.post(f"/api/v1/members/{member.external_id}/offers/{offer.pk}/activate")

    assert response.status_code == 409
    assert response.json()["code"] == "offer_not_visible"
    assert response.json()["reasons"] == [reason]


# These purchases fall on fixed calendar edges in the past: the offline window is opened wide for them.
CALENDAR_EDGES = override_settings(OFFLINE_WINDOW_HOURS=100 * 366 * 24)


def _buy(member, store, at, transaction_id):
    body, _ = transaction_record(
        transaction_id=transaction_id,
        member=member,
        store=store,
        occurred_at=at,
        total_amount=Decimal("5"),
        items=[{"sku": "SKU-1", "quantity": 1, "unit_price": Decimal("5")}],
        actor=Actor.system(),
    )
    return body["awards"]


@CALENDAR_EDGES
def test_age_birthday_is_judged_on_the_stores_local_date():
    # 02:00 UTC on the 18th birthday is still the day before in Los Angeles.
    offer = OfferFactory()
    EarningMechanismFactory(offer=offer)
    AudienceFactory(offer=offer, min_age=18)
    member = MemberFactory(birth_date=date(2008, 6, 15))
    utc_store = OrgEntityFactory(code="S-UTC", time_zone="UTC")
    la_store = OrgEntityFactory(code="S-LA", time_zone="America/Los_Angeles")
    at = datetime(2026, 6, 15, 2, 0, tzinfo=UTC)

    assert _buy(member, la_store, at, "LA-1") == []
    assert _buy(member, utc_store, at, "UTC-1") == [{"offer_id": offer.pk, "points": 100}]
    assert _buy(member, la_store, at + timedelta(hours=7), "LA-2") == [{"offer_id": offer.pk, "points": 100}]


def test_membership_view_age_uses_site_time_zone_by_default():
    offer = OfferFactory()
    AudienceFactory(offer=offer, min_age=18)
    member = MemberFactory(birth_date=date(2008, 6, 15))
    before = datetime(2026, 6, 14, 23, 59, 59, tzinfo=UTC)
    on = datetime(2026, 6, 15, 0, 0, tzinfo=UTC)
    assert selectors.membership_offer_get(member=member, offer_id=offer.pk, at=before).state.visible_status == (
        "age_restricted"
    )
    assert selectors.membership_offer_get(member=member, offer_id=offer.pk, at=on).state.visible_status == "visible"


@CALENDAR_EDGES
def test_publish_and_expire_edges_for_purchases_in_other_time_zones():
    publish = datetime(2026, 3, 1, 5, 0, tzinfo=UTC)  # midnight in New York (EST)
    offer = OfferFactory(publish_at=publish, expire_at=publish + timedelta(days=1))
    EarningMechanismFactory(offer=offer)
    member = MemberFactory()
    store = OrgEntityFactory(code="S-NY", time_zone="America/New_York")

    assert _buy(member, store, publish - timedelta(microseconds=1), "E-1") == []
    assert _buy(member, store, publish, "E-2") != []
    assert _buy(member, store, publish + timedelta(days=1) - timedelta(microseconds=1), "E-3") != []
    assert _buy(member, store, publish + timedelta(days=1), "E-4") == []
