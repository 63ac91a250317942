"""The member's offers list is served from each process's view of the offers, written as JSON once per rules
version: the bytes are DRF's rendering of the serializer's answer, and every change to what the page shows is
seen on the next page read."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.renderers import JSONRenderer

from members.models import Segment
from offers.api.serializers import MembershipOfferOutputSerializer
from offers.models import EarningMechanism, MarketingContent, OfferLimit
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


@pytest.fixture
def program():
    now = timezone.now()
    segment = SegmentFactory(code="vip")
    member = MemberFactory(birth_date=now.date().replace(year=1990), segments=[segment])
    plain = OfferFactory(category="", name="Ünïcode \u00a0name \u2028 and \u2029")
    dated = OfferFactory(publish_at=now - timedelta(days=1), expire_at=now + timedelta(days=9),
                         usage_start=now - timedelta(hours=2), usage_end=now + timedelta(days=3))  # fmt: skip
    OfferFactory(discontinued_at=now - timedelta(minutes=5))
    opted_in = OfferFactory(opt_in=True)
    ActivationFactory(offer=opted_in, member=member)
    OfferFactory(publish_at=now + timedelta(days=2))
    EarningMechanismFactory(offer=plain)
    EarningMechanismFactory(offer=dated, behavior_type=EarningMechanism.Behavior.SPEND, sku="", min_quantity=None,
                            min_amount=Decimal("25.50"), award_type=EarningMechanism.Award.POINTS_PER_UNIT,
                            points=None, points_per_unit=3)  # fmt: skip
    LimitFactory(offer=plain, max_count=5, used_count=2)
    LimitFactory(offer=plain, kind="activation", max_count=7, used_count=0)
    LimitFactory(offer=plain, scope=OfferLimit.Scope.MEMBER, max_count=1)
    LimitFactory(offer=opted_in, kind="activation", max_count=1, used_count=1)  # reached, but the member activated
    AudienceFactory(offer=dated, min_age=21, max_age=65)
    AudienceFactory(offer=dated, type="segment", segment=segment, min_age=None)
    MarketingContentFactory(offer=plain, description='Two lines\nof text "quoted"', image_url="https://example.com/a")
    MarketingContentFactory(offer=plain, locale="fr-FR", title="Économisez")
    return member, plain, dated, segment


def expected_page(response, member, *, at=None):
    """What DRF renders for the serializer's rows of that page, in the response's envelope."""
    body = response.json()
    rows = {row.offer.pk: row for row in membership_offer_list(member=member, at=at)}
    results = MembershipOfferOutputSerializer([rows[item["id"]] for item in body["results"]], many=True).data
    return JSONRenderer().render({**body, "results": results})


def page(client, member, query="?page_size=500"):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(f"/api/v1/members/{member.external_id}/offers{query}")
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/json"
    return response, len(captured)


@pytest.mark.parametrize("zone", ["UTC", "Europe/Paris", "America/St_Johns"])
def test_a_page_is_byte_for_byte_what_drf_renders_from_the_serializer(pos, program, zone):
    member, *_ = program
    with timezone.override(zone):
        for query in ("?page_size=500", "?page_size=2", "?page_size=2&page=2", "?page_size=2&page=3"):
            response, _ = page(pos, member, query)
            assert response.content == expected_page(response, member)


def test_a_page_shows_the_running_totals_and_the_member_counts_read_now_without_reloading(pos, program):
    member, plain, _, _ = program
    page(pos, member)
    _, statements = page(pos, member)
    OfferLimit.objects.filter(offer=plain, scope="global", kind="fulfillment").update(used_count=F("max_count"))
    response, moved = page(pos, member)
    row = next(row for row in response.json()["results"] if row["id"] == plain.pk)
    assert row["visible_status"] == "global_limit" and row["eligible"] is False
    assert [limit["used_count"] for limit in row["limits"]] == [5, 0, None]
    assert moved == statements  # a running total is no change to the offers: nothing is loaded again
    assert response.content == expected_page(response, member)


def test_a_change_to_marketing_content_or_to_a_segment_code_is_on_the_next_page(pos, program):
    member, plain, dated, segment = program
    page(pos, member)
    MarketingContent.objects.filter(offer=plain, locale="fr-FR").update(title="Nouveau titre")
    Segment.objects.filter(pk=segment.pk).update(code="gold")
    response, _ = page(pos, member)
    rows = {row["id"]: row for row in response.json()["results"]}
    assert [content["title"] for content in rows[plain.pk]["marketing_contents"]][-1] == "Nouveau titre"
    assert rows[dated.pk]["audiences"][-1] == {"type": "segment", "segment": "gold"}
    assert response.content == expected_page(response, member)


def test_an_offer_changed_added_or_deleted_is_on_the_next_page(pos, program):
    member, plain, dated, _ = program
    first, _ = page(pos, member)
    plain.name = "Renamed"
    plain.save()
    dated.delete()
    added = OfferFactory()
    response, _ = page(pos, member)
    ids = [row["id"] for row in response.json()["results"]]
    assert response.json()["count"] == first.json()["count"] and ids[0] == added.pk and dated.pk not in ids
    assert response.content == expected_page(response, member)


def test_offers_alike_are_judged_per_member_counts(pos):
    """Offers sharing their facts share one judgement a page, unless the member's counts for them differ."""
    segment = SegmentFactory()
    member = MemberFactory(birth_date=date(2010, 1, 1), segments=[segment])
    alike = [OfferFactory(opt_in=True) for _ in range(4)]
    for offer in alike:
        LimitFactory(offer=offer, scope="member", kind="fulfillment", max_count=1)
        AudienceFactory(offer=offer, min_age=12)
    ActivationFactory(offer=alike[1], member=member)
    response, _ = page(pos, member)
    rows = {row["id"]: row for row in response.json()["results"]}
    assert [rows[offer.pk]["activation_status"] for offer in alike] == [
        "requires_activation", "activated", "requires_activation", "requires_activation"
    ]  # fmt: skip
    assert [rows[offer.pk]["eligible"] for offer in alike] == [False, True, False, False]
    assert response.content == expected_page(response, member)


def test_a_filtered_list_answers_as_before(pos, program):
    member, plain, *_ = program
    response, _ = page(pos, member, "?visible_status=visible&page_size=500")
    assert plain.pk in {row["id"] for row in response.json()["results"]}
    assert response.content == expected_page(response, member)
