import io

import pytest

from config.actors import Actor
from coupons import demo
from coupons.models import Coupon, CouponSeries
from tests.members.factories import MemberFactory

pytestmark = pytest.mark.django_db


def test_demo_seed_creates_a_series_with_issued_coupons_once():
    for _ in range(3):
        MemberFactory()
    demo.seed(stdout=io.StringIO(), actor=Actor.cli())
    demo.seed(stdout=io.StringIO(), actor=Actor.cli())
    series = CouponSeries.objects.get(offer__external_id=demo.DEMO_OFFER)
    assert Coupon.objects.filter(series=series).count() == 3
    series.refresh_from_db()
    assert series.issued_count == 3


def test_demo_seed_adds_exchange_rates_once():
    from coupons.models import ExchangeRate

    demo.seed(stdout=io.StringIO(), actor=Actor.cli())
    demo.seed(stdout=io.StringIO(), actor=Actor.cli())
    assert ExchangeRate.objects.count() == len(demo.DEMO_RATES)
