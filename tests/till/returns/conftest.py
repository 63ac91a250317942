from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from config.actors import Actor
from coupons.redemption.services import coupon_redeem
from offers.services import transaction_record
from tests.coupons.factories import CouponFactory, CouponSeriesFactory
from tests.members.factories import MemberFactory
from tests.offers.factories import EarningMechanismFactory, OfferFactory

TILL = Actor(name="till-1", channel="api:pos")
# Four milk at 2.50 and two bread at 3.00: 16.00.
BASKET = [
    {"sku": "MILK", "quantity": 4, "unit_price": Decimal("2.50")},
    {"sku": "BREAD", "quantity": 2, "unit_price": Decimal("3.00")},
]


@pytest.fixture
def offers_for_basket(db):
    """10 points a milk (per unit) and 50 points for spending 12.00 (a threshold)."""
    per_milk = OfferFactory()
    EarningMechanismFactory(offer=per_milk, sku="MILK", min_quantity=1, award_type="points_per_unit", points=None,
                            points_per_unit=10)  # fmt: skip
    spend = OfferFactory()
    EarningMechanismFactory(offer=spend, behavior_type="spend", sku="", min_quantity=None, min_amount=Decimal("12"),
                            award_type="points", points=50)  # fmt: skip
    return per_milk, spend


@pytest.fixture
def buy(store):
    """Record a purchase at the store (and, given coupon codes, redeem them in it); returns the member."""

    def make(*, transaction_id="T-1", items=BASKET, total=Decimal("16.00"), member=None, occurred_at=None):
        member = member or MemberFactory()
        occurred_at = occurred_at or timezone.now() - timedelta(minutes=5)
        transaction_record(transaction_id=transaction_id, member=member, store=store, total_amount=total,
                           items=items, occurred_at=occurred_at, actor=TILL)  # fmt: skip
        member.refresh_from_db()
        return member

    return make


@pytest.fixture
def redeemed_coupon(store):
    def make(member, *, transaction_id="T-1", on_return="forfeit", skus=None, min_bill=None, bill="16.00"):
        series = CouponSeriesFactory(on_return=on_return, redemption_skus=skus, min_bill=min_bill)
        coupon = CouponFactory(series=series, member=member)
        coupon_redeem(code=coupon.code, member=member, store=store, bill_amount=Decimal(bill),
                      transaction_id=transaction_id, actor=TILL)  # fmt: skip
        coupon.refresh_from_db()
        return coupon

    return make
