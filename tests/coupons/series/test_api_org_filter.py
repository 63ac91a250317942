"""`GET /coupon-series?org_entity_type=&org_entity_ids=` finds the series tagged for redemption to those
entities (`redemption.stores`, seed 003's redemptionOrgEntityDetails), matched exactly."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from coupons.models import CouponSeries
from tests.coupons.factories import CouponSeriesFactory
from tests.coupons.test_api_coupons import full_body
from tests.members.factories import OrgEntityFactory
from tests.offers.factories import OfferFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def org():
    concept = OrgEntityFactory(code="C-FRESH", type="concept")
    zone = OrgEntityFactory(code="Z-NORTH", type="zone")
    s8 = OrgEntityFactory(code="S8", type="store", parent=zone, concept=concept)
    s9 = OrgEntityFactory(code="S9", type="store", parent=zone, concept=concept)
    till = OrgEntityFactory(code="S8-T1", type="till", parent=s8)
    return {"concept": concept, "zone": zone, "s8": s8, "s9": s9, "till": till}


def tagged(type_, *entities):
    series = CouponSeriesFactory(redemption_stores_type=type_)
    series.redemption_stores.set(entities)
    return series


def ids(client, query):
    response = client.get(f"/api/v1/coupon-series?{query}")
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


def test_series_created_with_redemption_stores_s8_is_found_by_store_s8(marketer, pos, org):
    body = full_body(OfferFactory(expiring=True), redemption={"stores": {"type": "store", "codes": ["S8"]}})
    created = marketer.post("/api/v1/coupon-series", body, format="json")
    assert created.status_code == 201, created.content
    series_id = created.json()["id"]
    CouponSeriesFactory()  # no store restriction: tagged to nothing

    assert ids(marketer, "org_entity_type=store&org_entity_ids=S8") == {series_id}
    assert ids(pos, "org_entity_type=store&org_entity_ids=S8") == {series_id}
    assert ids(marketer, f"org_entity_type=store&org_entity_ids={org['s8'].pk}") == {series_id}
    assert ids(marketer, "org_entity_type=store&org_entity_ids=S9") == set()
    assert "org_entities" not in created.json()


def test_series_filter_follows_a_patch_of_redemption_stores(marketer, org):
    series = tagged("store", org["s9"])
    url = f"/api/v1/coupon-series/{series.pk}"
    patched = marketer.patch(url, {"redemption": {"stores": {"type": "store", "codes": ["S8"]}}}, format="json")
    assert patched.status_code == 200, patched.content

    assert ids(marketer, "org_entity_type=store&org_entity_ids=S8") == {series.pk}
    assert ids(marketer, "org_entity_type=store&org_entity_ids=S9") == set()

    assert marketer.patch(url, {"redemption": {"stores": None}}, format="json").status_code == 200
    assert ids(marketer, "org_entity_type=store&org_entity_ids=S8") == set()


def test_series_filter_matches_the_tag_exactly_never_the_hierarchy(marketer, org):
    in_zone = tagged("zone", org["zone"])
    in_s8 = tagged("store", org["s8"])
    in_concept = tagged("concept", org["concept"])
    at_till = tagged("till", org["till"])
    both_stores = tagged("store", org["s8"], org["s9"])

    assert ids(marketer, "org_entity_type=zone&org_entity_ids=Z-NORTH") == {in_zone.pk}
    assert ids(marketer, "org_entity_type=store&org_entity_ids=S8") == {in_s8.pk, both_stores.pk}
    assert ids(marketer, "org_entity_type=store&org_entity_ids=S9,S8") == {in_s8.pk, both_stores.pk}
    assert ids(marketer, "org_entity_type=concept&org_entity_ids=C-FRESH") == {in_concept.pk}
    assert ids(marketer, "org_entity_type=till&org_entity_ids=S8-T1") == {at_till.pk}
    assert ids(marketer, "org_entity_type=zone&org_entity_ids=S8") == set()  # S8 is a store, not a zone
    assert ids(marketer, "org_entity_type=store&org_entity_ids=Z-NORTH") == set()


@pytest.mark.parametrize("value", ["UNKNOWN", "S8-NOPE", "²", "٣", "9223372036854775808", "99999999999999999999", "-1"])
def test_series_filter_unknown_ids_give_no_rows_and_no_error(marketer, org, value):
    tagged("store", org["s8"])
    assert ids(marketer, f"org_entity_type=store&org_entity_ids={value}") == set()


def test_series_filter_ignores_stores_without_a_type_as_redemption_does(marketer, org):
    tagged("", org["s8"])
    assert ids(marketer, "org_entity_type=store&org_entity_ids=S8") == set()


def test_series_filter_runs_the_same_queries_for_few_or_many_series(marketer, org):
    tagged("store", org["s8"])
    CouponSeriesFactory()
    with CaptureQueriesContext(connection) as few:
        assert len(ids(marketer, "org_entity_type=store&org_entity_ids=S8")) == 1
    for _ in range(8):
        tagged("store", org["s8"], org["s9"])
        CouponSeriesFactory()
    with CaptureQueriesContext(connection) as many:
        assert len(ids(marketer, "org_entity_type=store&org_entity_ids=S8")) == 9
    assert len(many) == len(few)
    assert CouponSeries.objects.count() == 18


def admin_series_data(**overrides):
    data = {
        "offer": OfferFactory(expiring=True).pk, "name": "Admin S8", "issued_by": "platform", "code_mode": "unique",
        "code_length": "8", "code_charset": "numeric", "discount_type": "fixed", "discount_value": "5",
        "expiry_mode": "with_offer", "on_rematch": "do_not_send", "limit_notify_emails": "[]",
        "redemption_start_mode": "on_issue",  # no day or hour ticked: no restriction
        "stacking_priority": "0", "on_return": "forfeit",
        "reminders-TOTAL_FORMS": "0", "reminders-INITIAL_FORMS": "0",
    }  # fmt: skip
    return {**data, **overrides}


def test_series_tagged_to_s8_in_the_admin_is_found_by_store_s8(admin_client, marketer, org):
    data = admin_series_data(redemption_stores_type="store", redemption_stores=[org["s8"].pk])
    response = admin_client.post(reverse("admin:coupons_couponseries_add"), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    series = CouponSeries.objects.get(name="Admin S8")
    assert ids(marketer, "org_entity_type=store&org_entity_ids=S8") == {series.pk}


@pytest.mark.parametrize(
    "stores_type, entities, message",
    [
        ("zone", ["s8"], "Not a zone: S8."),
        ("", ["s8"], "Choose the type of the entities redemption is restricted to."),
        ("store", [], "Choose the entities redemption is restricted to, or no restriction."),
    ],
)
def test_series_admin_refuses_redemption_stores_that_disagree_with_their_type(
    admin_client, org, stores_type, entities, message
):
    data = admin_series_data(redemption_stores_type=stores_type, redemption_stores=[org[e].pk for e in entities])
    response = admin_client.post(reverse("admin:coupons_couponseries_add"), data)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["redemption_stores"] == [message]
    assert not CouponSeries.objects.filter(name="Admin S8").exists()
