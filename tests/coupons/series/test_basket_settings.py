"""The series settings a basket reads: which SKUs a coupon discounts, how it stacks, what a return does."""

import pytest

from config import ranges
from coupons.models import CouponSeries
from tests.extremes import inside, outside
from tests.offers.factories import OfferFactory

pytestmark = pytest.mark.django_db


def body(offer, **redemption):
    return {
        "offer": offer.pk,
        "name": "Basket",
        "code_generation": {"mode": "unique", "length": 10, "charset": "alphanumeric"},
        "discount": {"type": "fixed", "value": "5.00", "currency": "USD"},
        "expiry": {"mode": "days_from_issue", "days": 30},
        "redemption": redemption,
    }


def test_basket_settings_round_trip_and_default_to_whole_basket_not_exclusive_forfeit(marketer):
    offer = OfferFactory(expiring=True)
    plain = marketer.post("/api/v1/coupon-series", body(offer), format="json")
    assert plain.status_code == 201, plain.json()
    assert plain.json()["redemption"]["skus"] is None
    assert plain.json()["redemption"]["stacking"] == {"exclusive": False, "priority": 0}
    assert plain.json()["redemption"]["on_return"] == "forfeit"

    sent = body(offer, skus=["SKU-1", "SKU-2", "SKU-1"], stacking={"exclusive": True, "priority": 7},
                on_return="reinstate")  # fmt: skip
    made = marketer.post("/api/v1/coupon-series", sent, format="json")
    assert made.status_code == 201, made.json()
    series = CouponSeries.objects.get(pk=made.json()["id"])
    assert (series.redemption_skus, series.stacking_exclusive, series.stacking_priority, series.on_return) == (
        ["SKU-1", "SKU-2"], True, 7, "reinstate",
    )  # fmt: skip
    read = marketer.get(f"/api/v1/coupon-series/{series.pk}").json()["redemption"]
    assert read["skus"] == ["SKU-1", "SKU-2"] and read["stacking"] == {"exclusive": True, "priority": 7}


@pytest.mark.parametrize(
    "redemption",
    [{"skus": []}, {"skus": [""]}, {"skus": ["x" * 65]}, {"skus": ["A"] * (ranges.SKU_LIST_LENGTH.max + 1)},
     {"on_return": "refund"}, {"stacking": {"exclusive": "maybe"}}]
    + [{"stacking": {"priority": value}} for value in outside(ranges.PRIORITY)],
)  # fmt: skip
def test_basket_settings_out_of_range_are_400_and_save_nothing(marketer, redemption):
    response = marketer.post("/api/v1/coupon-series", body(OfferFactory(expiring=True), **redemption), format="json")
    assert response.status_code == 400, response.json()
    assert "redemption" in response.json()["errors"]
    assert not CouponSeries.objects.exists()


@pytest.mark.parametrize("priority", inside(ranges.PRIORITY))
def test_stacking_priority_at_its_bounds_is_stored_exactly(marketer, priority):
    response = marketer.post(
        "/api/v1/coupon-series", body(OfferFactory(expiring=True), stacking={"priority": priority}), format="json"
    )
    assert response.status_code == 201, response.json()
    assert CouponSeries.objects.values_list("stacking_priority", flat=True).get() == priority
