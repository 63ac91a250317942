import pytest
from rest_framework.test import APIClient

from coupons.models import Coupon, CouponRedemption, CouponSeries
from tests.concurrency import run_concurrently
from tests.coupons.factories import CouponFactory, CouponSeriesFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def till(token):
    http = APIClient()
    http.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return http


def race(token, bodies):
    """POST every body to redeem from its own thread, all released at once; the answers in body order."""

    def redeem(index):
        response = till(token).post("/api/v1/coupons/redeem", bodies[index], format="json")
        return response.status_code, response.json().get("reasons")

    return run_concurrently(len(bodies), redeem)


def body(coupon, store):
    return {"code": coupon.code, "member": coupon.member.external_id, "store": store.code, "bill_amount": "20"}


def test_redeem_one_code_by_50_racers_gives_exactly_one_201(pos, store):
    coupon = CouponFactory()
    answers = race(pos.token, [body(coupon, store)] * 50)
    assert [code for code, _ in answers].count(201) == 1
    assert answers.count((409, ["already_redeemed"])) == 49
    assert CouponRedemption.objects.filter(coupon=coupon).count() == 1
    assert Coupon.objects.get(pk=coupon.pk).status == "redeemed"
    assert CouponSeries.objects.get(pk=coupon.series_id).redeemed_count == 1


def test_redeem_series_limit_with_racers_ends_at_exactly_the_limit(pos, store):
    series = CouponSeriesFactory(redemption_series_limit=5)
    coupons = [CouponFactory(series=series) for _ in range(12)]
    answers = race(pos.token, [body(c, store) for c in coupons])
    assert [code for code, _ in answers].count(201) == 5
    assert answers.count((409, ["series_redemption_limit_reached"])) == 7
    assert CouponRedemption.objects.filter(series=series).count() == 5
    assert Coupon.objects.filter(series=series, status="redeemed").count() == 5
    assert CouponSeries.objects.get(pk=series.pk).redeemed_count == 5


def test_redeem_multi_use_member_limit_with_racers(pos, store):
    coupon = CouponFactory(series__multi_use=True, series__redemption_max_per_member=3)
    answers = race(pos.token, [body(coupon, store)] * 10)
    assert [code for code, _ in answers].count(201) == 3
    assert answers.count((409, ["member_redemption_limit_reached"])) == 7
    assert CouponRedemption.objects.filter(coupon=coupon).count() == 3


def test_reverse_raced_by_itself_restores_the_count_once(pos, store):
    coupon = CouponFactory()
    rid = pos.post("/api/v1/coupons/redeem", body(coupon, store), format="json").json()["redemption_id"]

    def reverse(index):
        return till(pos.token).post(f"/api/v1/coupon-redemptions/{rid}/reverse").status_code

    codes = run_concurrently(8, reverse)
    assert codes == [200] * 8
    assert CouponSeries.objects.get(pk=coupon.series_id).redeemed_count == 0
    assert Coupon.objects.get(pk=coupon.pk).status == "issued"
