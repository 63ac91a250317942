"""One member's offers over the API, page after page: the same statements at 20 and at 1,000 live offers.

The first page read under a new rules version loads every offer into the process (a fixed number of
statements more); every page after that costs the same statements whatever the program's size."""

import json
from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from offers import selectors
from offers.api.serializers import MembershipOfferOutputSerializer
from offers.models import (
    Activation,
    Audience,
    EarningMechanism,
    Fulfillment,
    MarketingContent,
    Offer,
    OfferLimit,
    Transaction,
)
from tests.members.factories import MemberFactory, OrgEntityFactory, SegmentFactory

pytestmark = pytest.mark.django_db


def make_offers(count, *, start, segment):
    offers = Offer.objects.bulk_create(
        Offer(external_id=f"P-{start + n}", name=f"Offer {start + n}", requires_activation=bool(n % 2))
        for n in range(count)
    )
    EarningMechanism.objects.bulk_create(
        EarningMechanism(offer=o, behavior_type="purchase_product", sku=f"SKU-{o.pk}", award_type="points", points=5)
        for o in offers
    )
    OfferLimit.objects.bulk_create(
        OfferLimit(offer=o, scope=scope, kind="fulfillment", max_count=9)
        for o in offers
        for scope in ("global", "member")
    )
    Audience.objects.bulk_create(
        audience
        for o in offers
        for audience in (Audience(offer=o, type="age", min_age=18), Audience(offer=o, type="segment", segment=segment))
    )
    MarketingContent.objects.bulk_create(MarketingContent(offer=o, locale="en", title=o.name) for o in offers)
    return offers


def pages(client, member):
    """Both pages of 500 rows: the statements of each, and the rows they answered."""
    counts, rows = [], []
    for page in (1, 2):
        with CaptureQueriesContext(connection) as captured:
            response = client.get(f"/api/v1/members/{member.external_id}/offers?page_size=500&page={page}")
        if response.status_code == 404:  # no second page
            break
        assert response.status_code == 200, response.json()
        counts.append(len(captured))
        rows += response.json()["results"]
    return counts, rows


def test_member_offers_pages_cost_the_same_statements_at_20_and_at_1000_offers(pos):
    segment = SegmentFactory(code="vip")
    member = MemberFactory(birth_date=date(1990, 1, 1), segments=[segment])
    store = OrgEntityFactory(type="store")
    first = make_offers(20, start=0, segment=segment)
    Activation.objects.create(offer=first[1], member=member, activated_at=first[1].created_at, actor="t", channel="t")

    at_20, rows = pages(pos, member)
    again_20, _ = pages(pos, member)
    assert len(rows) == 20 and len(at_20) == 1
    expected = MembershipOfferOutputSerializer(selectors.membership_offer_list(member=member), many=True).data
    assert rows == json.loads(json.dumps([dict(row) for row in expected]))

    make_offers(980, start=20, segment=segment)
    purchase = Transaction.objects.create(
        transaction_id="T-1", member=member, store=store, occurred_at=first[0].created_at, total_amount=1, actor="t",
        channel="t",
    )  # fmt: skip
    Fulfillment.objects.create(
        offer=first[0], member=member, transaction=purchase, points=5, occurred_at=purchase.occurred_at
    )
    at_1000, rows = pages(pos, member)
    again_1000, rows_again = pages(pos, member)

    assert len(rows) == 1000 and len({row["id"] for row in rows}) == 1000 and rows_again == rows
    assert at_1000 == [at_20[0], again_20[0]]  # the first page read under the new version loads the offers
    assert again_1000 == [again_20[0], again_20[0]] and again_20[0] <= 4
    by_id = {row["id"]: row for row in rows}
    assert by_id[first[0].pk]["fulfillment_count"] == 1
    assert by_id[first[1].pk]["activated"] is True
