"""A till's `at` is believed only between the offline window behind the server's clock and the clock skew ahead."""

from datetime import timedelta
from decimal import Decimal
from functools import partial

import pytest
from django.test import override_settings
from django.utils import timezone

from config.actors import Actor
from coupons.exceptions import RedemptionError
from coupons.models import Coupon, CouponRedemption
from coupons.redemption import services as redemption
from tests.coupons.factories import CouponFactory, CouponSeriesFactory

pytestmark = pytest.mark.django_db


def body(coupon, store, at, **overrides):
    data = {"code": coupon.code, "member": coupon.member.external_id, "store": store.code, "bill_amount": "50.00",
            "at": at.isoformat()}  # fmt: skip
    data.update(overrides)
    return data


def next_sunday_three_am(after):
    """The first Sunday 03:00 (UTC, the test store's zone) at least a day after `after`."""
    day = (after + timedelta(days=1)).replace(hour=3, minute=0, second=0, microsecond=0)
    while day.weekday() != 6 or day < after + timedelta(days=1):
        day += timedelta(days=1)
    return day


def sunday_night_coupon():
    return CouponFactory(series=CouponSeriesFactory(days_of_week=[6], hours=[3]))


def test_a_future_at_does_not_redeem_a_sunday_night_coupon_on_another_day(pos, store):
    coupon = sunday_night_coupon()
    sunday = next_sunday_three_am(timezone.now())

    response = pos.post("/api/v1/coupons/redeem", body(coupon, store, sunday), format="json")

    assert response.status_code == 409, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "time_out_of_range"
    assert response.json()["reasons"] == ["time_out_of_range"]
    assert Coupon.objects.get(pk=coupon.pk).status == "issued"
    assert not CouponRedemption.objects.exists()


def test_validate_lists_time_out_of_range_with_every_other_failing_reason(pos, store):
    series = CouponSeriesFactory(min_bill=Decimal("100"))
    coupon = CouponFactory(series=series, expires_at=timezone.now() - timedelta(hours=1))

    response = pos.post("/api/v1/coupons/validate", body(coupon, store, timezone.now() + timedelta(days=2)),
                        format="json")  # fmt: skip

    assert response.status_code == 200, response.content
    assert response.json()["valid"] is False
    assert response.json()["reasons"] == ["time_out_of_range", "expired", "bill_below_minimum"]


def test_an_at_older_than_the_offline_window_is_refused(pos, store):
    coupon = CouponFactory()
    at = timezone.now() - timedelta(hours=73)

    validated = pos.post("/api/v1/coupons/validate", body(coupon, store, at), format="json")
    redeemed = pos.post("/api/v1/coupons/redeem", body(coupon, store, at), format="json")

    assert validated.json()["reasons"] == ["time_out_of_range"]
    assert redeemed.status_code == 409
    assert redeemed.json()["reasons"] == ["time_out_of_range"]
    assert Coupon.objects.get(pk=coupon.pk).status == "issued"


@pytest.mark.parametrize("offset", [timedelta(minutes=4), timedelta(hours=-71)])
def test_an_at_inside_the_skew_and_the_offline_window_redeems_at_that_time(pos, store, offset):
    coupon = CouponFactory()
    at = timezone.now() + offset

    response = pos.post("/api/v1/coupons/redeem", body(coupon, store, at), format="json")

    assert response.status_code == 201, response.content
    assert CouponRedemption.objects.get().redeemed_at == at


@override_settings(CLIENT_CLOCK_SKEW_SECONDS=0, OFFLINE_WINDOW_HOURS=1)
def test_the_window_follows_the_settings(pos, store):
    coupon = CouponFactory()
    ahead = pos.post("/api/v1/coupons/validate", body(coupon, store, timezone.now() + timedelta(minutes=1)),
                     format="json")  # fmt: skip
    behind = pos.post("/api/v1/coupons/validate", body(coupon, store, timezone.now() - timedelta(minutes=61)),
                      format="json")  # fmt: skip
    inside = pos.post("/api/v1/coupons/validate", body(coupon, store, timezone.now() - timedelta(minutes=59)),
                      format="json")  # fmt: skip
    assert ahead.json()["reasons"] == behind.json()["reasons"] == ["time_out_of_range"]
    assert inside.json()["reasons"] == []


@pytest.mark.parametrize("read_first", [False, True])
def test_the_redeem_service_refuses_an_at_out_of_range(store, read_first):
    coupon = sunday_night_coupon()
    read = redemption.coupon_for_redemption(code=coupon.code, member=coupon.member)
    redeem = partial(redemption.coupon_redeem_read, coupon=read) if read_first else redemption.coupon_redeem
    with pytest.raises(RedemptionError) as refused:
        redeem(code=coupon.code, member=coupon.member, store=store, bill_amount=Decimal("20"),
               actor=Actor.system(), at=next_sunday_three_am(timezone.now()))  # fmt: skip
    assert refused.value.code == "time_out_of_range"
    assert Coupon.objects.get(pk=coupon.pk).status == "issued"
