"""The offer's page lists its coupon series (issued and redeemed) and its responses counted by status."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from coupons.models import CouponSeries
from tests.coupons.factories import CouponSeriesFactory
from tests.offers.factories import OfferFactory, OfferResponseFactory

pytestmark = pytest.mark.django_db


def offer_url(offer):
    return reverse("admin:offers_offer_change", args=[offer.pk])


def test_offer_page_lists_its_series_and_responses_by_status(admin_client):
    offer = OfferFactory(expiring=True)
    series = CouponSeriesFactory(offer=offer, name="Spring welcome")
    CouponSeries.objects.filter(pk=series.pk).update(issued_count=12345, redeemed_count=678)
    CouponSeriesFactory(name="Another offer's series")
    OfferResponseFactory.create_batch(2, offer=offer)
    OfferResponseFactory(offer=offer, status="completed")
    OfferResponseFactory(status="completed")  # another offer's

    response = admin_client.get(offer_url(offer))

    page = response.content.decode()
    assert [s.name for s in response.context["offer_series"]] == ["Spring welcome"]
    assert reverse("admin:coupons_couponseries_change", args=[series.pk]) in page
    assert "12,345" in page and "678" in page and "Another offer's series" not in page
    counts = {row.status: row.count for row in response.context["response_counts"]}
    assert (counts["pending"], counts["completed"], counts["canceled"]) == (2, 1, 0)
    assert response.context["response_total"] == 3
    assert f"?offer__id__exact={offer.pk}&amp;status__exact=completed" in page
    assert "Completed <strong>1</strong>" in page


def test_offer_page_query_count_does_not_grow_with_its_series_and_responses(admin_client):
    offer = OfferFactory(expiring=True)
    CouponSeriesFactory(offer=offer)
    OfferResponseFactory(offer=offer)
    with CaptureQueriesContext(connection) as few:
        admin_client.get(offer_url(offer))
    CouponSeriesFactory.create_batch(4, offer=offer)
    OfferResponseFactory.create_batch(6, offer=offer, status="clipped")
    with CaptureQueriesContext(connection) as many:
        assert admin_client.get(offer_url(offer)).status_code == 200
    assert len(many) == len(few)


def test_add_series_link_preselects_the_offer(admin_client):
    offer = OfferFactory(expiring=True)
    assert f"{reverse('admin:coupons_couponseries_add')}?offer={offer.pk}" in admin_client.get(
        offer_url(offer)).content.decode()  # fmt: skip
    form = admin_client.get(reverse("admin:coupons_couponseries_add") + f"?offer={offer.pk}").context["adminform"].form
    assert form.initial["offer"] == str(offer.pk)
