import re
from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from offers import selectors
from tests.members.factories import MemberFactory, SegmentFactory
from tests.offers.factories import (
    ActivationFactory,
    AudienceFactory,
    LimitFactory,
    MarketingContentFactory,
    OfferFactory,
)

pytestmark = pytest.mark.django_db


def rows_by_id(client, member, query=""):
    response = client.get(f"/api/v1/members/{member.external_id}/offers{query}")
    assert response.status_code == 200, response.json()
    return {row["id"]: row for row in response.json()["results"]}


def test_membership_offers_show_per_member_statuses_and_fields(pos):
    vip = SegmentFactory(code="vip")
    member = MemberFactory(birth_date=date(2012, 1, 1))
    plain = OfferFactory()
    adults = OfferFactory()
    AudienceFactory(offer=adults, min_age=18)
    vips = OfferFactory()
    AudienceFactory(offer=vips, type="segment", min_age=None, segment=vip)
    opt_in = OfferFactory(opt_in=True)

    rows = rows_by_id(pos, member)

    assert rows[plain.pk]["visible_status"] == "visible"
    assert rows[plain.pk]["eligible"] is True
    assert rows[plain.pk]["activation_status"] == "does_not_require_activation"
    assert rows[plain.pk]["must_activate"] is False
    assert rows[plain.pk]["activated"] is None
    assert rows[plain.pk]["fulfillment_count"] == 0
    assert rows[plain.pk]["external_id"] == plain.external_id
    assert rows[adults.pk]["visible_status"] == "age_restricted"
    assert rows[adults.pk]["eligible"] is False
    assert rows[vips.pk]["visible_status"] == "missing_required_segments"
    assert rows[opt_in.pk]["activation_status"] == "requires_activation"
    assert (rows[opt_in.pk]["eligible"], rows[opt_in.pk]["must_activate"], rows[opt_in.pk]["activated"]) == (
        False,
        True,
        False,
    )


def test_membership_offers_global_status_wins_over_member_status(pos):
    member = MemberFactory(birth_date=date(2012, 1, 1))
    expired_adults = OfferFactory(expire_at=timezone.now() - timedelta(days=1))
    AudienceFactory(offer=expired_adults, min_age=18)
    rows = rows_by_id(pos, member)
    assert rows[expired_adults.pk]["visible_status"] == "expired"


def test_membership_offers_filter_by_visible_status_and_eligible(member_care):
    member = MemberFactory()
    visible = OfferFactory()
    opt_in = OfferFactory(opt_in=True)
    expired = OfferFactory(expire_at=timezone.now() - timedelta(days=1))

    assert set(rows_by_id(member_care, member, "?visible_status=expired")) == {expired.pk}
    assert set(rows_by_id(member_care, member, "?visible_status=visible")) == {visible.pk, opt_in.pk}
    assert set(rows_by_id(member_care, member, "?eligible=true")) == {visible.pk}
    assert set(rows_by_id(member_care, member, "?eligible=false")) == {opt_in.pk, expired.pk}
    bad = member_care.get(f"/api/v1/members/{member.external_id}/offers?visible_status=nope")
    assert bad.status_code == 400


def test_membership_offers_unknown_member_is_404(pos):
    assert pos.get("/api/v1/members/NOPE/offers").status_code == 404
    assert pos.get("/api/v1/members/NOPE/offers/1").status_code == 404


def test_membership_offer_detail_and_unknown_offer_404(pos):
    member = MemberFactory()
    offer = OfferFactory()
    response = pos.get(f"/api/v1/members/{member.external_id}/offers/{offer.pk}")
    assert response.status_code == 200
    assert response.json()["id"] == offer.pk
    assert response.json()["member"] == member.external_id
    assert pos.get(f"/api/v1/members/{member.external_id}/offers/999999").status_code == 404


def test_membership_offers_require_authentication(anonymous):
    member = MemberFactory()
    assert anonymous.get(f"/api/v1/members/{member.external_id}/offers").status_code == 401


def _make_offers(count, segment):
    for n in range(count):
        offer = OfferFactory(requires_activation=bool(n % 2))
        LimitFactory(offer=offer, scope="member", max_count=3)
        LimitFactory(offer=offer, scope="global", max_count=100)
        AudienceFactory(offer=offer, min_age=18)
        AudienceFactory(offer=offer, type="segment", min_age=None, segment=segment)
        MarketingContentFactory(offer=offer)


def _queries_for_member_view(member):
    with CaptureQueriesContext(connection) as captured:
        rows = selectors.membership_offer_list(member=member)
    return len(captured), rows


def test_membership_offer_list_uses_constant_queries_for_5_and_200_offers():
    segment = SegmentFactory(code="vip")
    member = MemberFactory(birth_date=date(1990, 1, 1), segments=[segment])

    _make_offers(5, segment)
    few, rows = _queries_for_member_view(member)
    assert len(rows) == 5
    opt_in = next(row.offer for row in rows if row.offer.requires_activation)
    ActivationFactory(offer=opt_in, member=member)
    _make_offers(195, segment)
    many, rows = _queries_for_member_view(member)

    assert len(rows) == 200
    assert few == many
    assert sum(row.state.activation_status == "activated" for row in rows) == 1


def test_membership_offer_api_query_count_is_constant(pos, django_assert_num_queries):
    segment = SegmentFactory(code="vip")
    member = MemberFactory(birth_date=date(1990, 1, 1), segments=[segment])
    _make_offers(3, segment)
    with CaptureQueriesContext(connection) as few:
        pos.get(f"/api/v1/members/{member.external_id}/offers?page_size=500")
    _make_offers(40, segment)
    with CaptureQueriesContext(connection) as many:
        response = pos.get(f"/api/v1/members/{member.external_id}/offers?page_size=500")
    assert response.json()["count"] == 43
    assert len(few) == len(many)


def test_membership_offer_pages_are_cut_from_the_loaded_offers_and_match_the_full_list(pos):
    segment = SegmentFactory(code="vip")
    member = MemberFactory(birth_date=date(1990, 1, 1), segments=[segment])
    _make_offers(25, segment)
    ActivationFactory(offer=OfferFactory(opt_in=True), member=member)
    everything = [row.offer.pk for row in selectors.membership_offer_list(member=member)]
    url = f"/api/v1/members/{member.external_id}/offers?page_size=10"

    pages, queries = [], []
    for page in (1, 2, 3, 1):
        with CaptureQueriesContext(connection) as captured:
            body = pos.get(f"{url}&page={page}").json()
        pages.append([row["id"] for row in body["results"]])
        queries.append([q["sql"] for q in captured.captured_queries])

    assert body["count"] == 26
    assert [len(page) for page in pages] == [10, 10, 6, 10]
    assert [offer_id for page in pages[:3] for offer_id in page] == everything and pages[3] == pages[0]
    # The first page read under this rules version loads every offer (4 statements); then each page costs the
    # same statements, none of them reading offers, and only the page's offers' counts.
    assert len(queries[0]) == len(queries[1]) + 4
    assert len(queries[1]) == len(queries[2]) == len(queries[3])
    assert not [sql for sql in queries[1] if sql.startswith('SELECT "offers_offer"')]
    (counts,) = [sql for sql in queries[2] if sql.startswith("WITH page(id)")]
    sent_ids = re.search(r"[\[{]([0-9, ]+)[\]}]", counts).group(1)  # a JSON list or an array literal
    assert [int(offer_id) for offer_id in sent_ids.split(",")] == pages[2]


@pytest.mark.parametrize("query", ["?visible_status=visible", "?visible_status=expired", "?eligible=true",
                                   "?eligible=false", "?visible_status=global_limit",
                                   "?visible_status=missing_required_segments"])  # fmt: skip
def test_filtered_membership_offers_are_what_the_rules_say_for_every_offer(pos, query):
    segment = SegmentFactory(code="vip")
    member = MemberFactory(birth_date=date(1990, 1, 1))
    _make_offers(12, segment)
    OfferFactory(expire_at=timezone.now() - timedelta(days=1), publish_at=timezone.now() - timedelta(days=2))
    reached = OfferFactory(opt_in=True)
    LimitFactory(offer=reached, kind="activation", max_count=0)
    ActivationFactory(offer=reached, member=member)  # exempt from the activation limit it reached
    LimitFactory(offer=OfferFactory(), max_count=0)
    name, value = query[1:].split("=")
    expected = [
        row.offer.pk
        for row in selectors.membership_offer_list(member=member)
        if (str(row.state.eligible).lower() if name == "eligible" else row.state.visible_status) == value
    ]
    response = pos.get(f"/api/v1/members/{member.external_id}/offers{query}&page_size=500")
    assert [row["id"] for row in response.json()["results"]] == expected
    assert expected or name == "visible_status"
