"""The member's offers list builds its rows as plain dicts: the same answer as the serializer, key for key."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from offers.api.serializers import MembershipOfferOutputSerializer, membership_offer_bodies, membership_offer_body
from offers.models import EarningMechanism, OfferLimit
from offers.selectors import membership_offer_list
from tests.members.factories import MemberFactory, SegmentFactory
from tests.offers.factories import (
    ActivationFactory,
    AudienceFactory,
    EarningMechanismFactory,
    LimitFactory,
    MarketingContentFactory,
    OfferFactory,
)

pytestmark = pytest.mark.django_db


def test_every_kind_of_offer_row_is_rendered_exactly_as_the_serializer_renders_it(django_assert_max_num_queries):
    now = timezone.now()
    segment = SegmentFactory()
    member = MemberFactory(birth_date=now.date().replace(year=1990), segments=[segment])
    plain = OfferFactory(category="", name="Ünïcode \u00a0name")
    dated = OfferFactory(publish_at=now - timedelta(days=1), expire_at=now + timedelta(days=9),
                         usage_start=now - timedelta(hours=2), usage_end=now + timedelta(days=3))  # fmt: skip
    discontinued = OfferFactory(discontinued_at=now - timedelta(minutes=5))
    opted_in = OfferFactory(opt_in=True)
    ActivationFactory(offer=opted_in, member=member)
    EarningMechanismFactory(offer=plain)
    EarningMechanismFactory(offer=dated, behavior_type=EarningMechanism.Behavior.SPEND, sku="", min_quantity=None,
                            min_amount=Decimal("25.50"), award_type=EarningMechanism.Award.POINTS_PER_UNIT,
                            points=None, points_per_unit=3)  # fmt: skip
    LimitFactory(offer=plain, max_count=5, used_count=2)
    LimitFactory(offer=plain, scope=OfferLimit.Scope.MEMBER, max_count=1)
    AudienceFactory(offer=dated, min_age=21, max_age=65)
    AudienceFactory(offer=dated, type="segment", segment=segment, min_age=None)
    MarketingContentFactory(offer=plain, description="Two lines\nof text", image_url="https://example.com/a.png")
    MarketingContentFactory(offer=plain, locale="fr-FR", title="Économisez")

    rows = membership_offer_list(member=member, at=now)
    assert {row.offer.pk for row in rows} == {plain.pk, dated.pk, discontinued.pk, opted_in.pk}
    expected = MembershipOfferOutputSerializer(rows, many=True).data
    with django_assert_max_num_queries(0):
        bodies = [membership_offer_body(row) for row in rows]
    assert bodies == [dict(row) for row in expected]
    assert [list(body) for body in bodies] == [list(row) for row in expected]  # the same key order


def test_the_list_endpoint_answers_the_rows_the_serializer_would(pos, store):
    member = MemberFactory()
    for _ in range(3):
        offer = OfferFactory()
        LimitFactory(offer=offer)
        MarketingContentFactory(offer=offer)
    response = pos.get(f"/api/v1/members/{member.external_id}/offers?page_size=2")
    assert response.status_code == 200, response.json()
    rows = membership_offer_list(member=member, at=timezone.now())[:2]
    assert response.json()["results"] == [dict(row) for row in MembershipOfferOutputSerializer(rows, many=True).data]


@pytest.mark.parametrize("zone", ["UTC", "Europe/Paris", "America/St_Johns"])
def test_a_page_writes_its_times_in_the_current_zone_as_the_serializer_does(zone):
    member = MemberFactory()
    OfferFactory(publish_at=timezone.now().replace(microsecond=0) - timedelta(days=200), expire_at=None)
    OfferFactory(publish_at=timezone.now().replace(microsecond=123456), usage_start=timezone.now())
    with timezone.override(zone):
        rows = membership_offer_list(member=member, at=timezone.now())
        expected = [dict(row) for row in MembershipOfferOutputSerializer(rows, many=True).data]
        assert membership_offer_bodies(rows) == expected
