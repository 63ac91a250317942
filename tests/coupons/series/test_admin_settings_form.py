"""The series form in a marketer's terms: days and hours as checkbox grids, none ticked meaning no restriction."""

import re

import pytest
from django.urls import reverse

from coupons.models import CouponSeries
from tests.coupons.factories import CouponSeriesFactory
from tests.coupons.series.test_api_org_filter import admin_series_data

pytestmark = pytest.mark.django_db


def test_series_form_stores_the_days_and_hours_ticked(admin_client):
    data = admin_series_data(name="Weekend mornings", days_of_week=["5", "6"], hours=["10", "9"])
    response = admin_client.post(reverse("admin:coupons_couponseries_add"), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    series = CouponSeries.objects.get(name="Weekend mornings")
    assert (series.days_of_week, series.hours, series.days_of_month) == ([5, 6], [9, 10], None)


def test_series_form_refuses_an_hour_outside_the_day(admin_client):
    response = admin_client.post(reverse("admin:coupons_couponseries_add"), admin_series_data(hours=["24"]))
    assert response.status_code == 200 and "hours" in response.context["adminform"].form.errors
    assert not CouponSeries.objects.exists()


def test_series_change_page_shows_grids_not_json(admin_client):
    series = CouponSeriesFactory(days_of_week=[0, 2], hours=None)
    html = admin_client.get(reverse("admin:coupons_couponseries_change", args=[series.pk])).content.decode()
    assert html.count('class="checkbox-grid checkbox-grid-7"') == 1
    assert html.count('class="checkbox-grid checkbox-grid-8"') == 2  # days of the month, hours
    boxes = re.findall(r"<input[^>]*name=\"days_of_week\"[^>]*>", html)
    assert len(boxes) == 7
    assert [re.search(r'value="(\d)"', box)[1] for box in boxes if re.search(r"\schecked(?=[\s/>])", box)] == ["0", "2"]
    assert ">null<" not in html and "offerdesk/admin.css" in html


def test_series_form_refuses_a_series_that_excludes_itself(admin_client):
    series = CouponSeriesFactory(name="Self")
    page = admin_client.get(reverse("admin:coupons_couponseries_change", args=[series.pk]))
    data = {**admin_series_data(offer=series.offer_id, name="Self"), "exclude_recipients_of": [str(series.pk)],
            "exclude_window_days": "30"}  # fmt: skip
    assert page.status_code == 200
    response = admin_client.post(reverse("admin:coupons_couponseries_change", args=[series.pk]), data)
    assert response.status_code == 200
    assert "cannot exclude the recipients of itself" in response.content.decode()
    assert not series.exclude_recipients_of.exists()


def test_series_page_explains_capacity_and_guess_odds_in_words(admin_client):
    series = CouponSeriesFactory(code_length=4, code_charset="numeric")
    html = admin_client.get(reverse("admin:coupons_couponseries_change", args=[series.pk])).content.decode()
    assert "10,000 possible codes; 0 issued, 0 redeemed, 10,000 can still be issued." in html
