"""Hand-built coupon and points history, with every kind of event at known dates."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from coupons.models import CouponRedemption
from members.models import PointsEntry
from tests.coupons.factories import CouponFactory, CouponSeriesFactory
from tests.members.factories import MemberFactory, OrgEntityFactory


def at(month, day):
    return datetime(2026, month, day, 12, tzinfo=UTC)


def redeem(coupon, *, on, discount, currency="USD", reversed_on=None):
    store = OrgEntityFactory(type="store")
    return CouponRedemption.objects.create(
        coupon=coupon, series=coupon.series, member=coupon.member, store=store, bill_amount=Decimal("100"),
        discount_amount=Decimal(discount), currency=currency, redeemed_at=on, is_reversed=reversed_on is not None,
        reversed_at=reversed_on, actor="till", channel="api:pos",
    )  # fmt: skip


def issued(series, *, on=None, **fields):
    return CouponFactory(series=series, issued_at=on or at(1, 10), **fields)


@pytest.fixture
def history():
    """Series A: 5 USD fixed; B: 10 % (no fixed value); C: 10 EUR fixed; M: 2 USD fixed, multi-use."""
    a = CouponSeriesFactory(name="A", discount_value=5, discount_currency="USD")
    b = CouponSeriesFactory(name="B", discount_type="percentage", discount_value=10, discount_currency="")
    c = CouponSeriesFactory(name="C", discount_value=10, discount_currency="EUR")
    m = CouponSeriesFactory(name="M", discount_value=2, discount_currency="USD", multi_use=True)
    issued(a)  # open throughout
    redeem(issued(a, status="redeemed"), on=at(2, 5), discount="5.00")
    redeem(issued(a), on=at(2, 5), discount="5.00", reversed_on=at(3, 1))  # redeemed in February, reinstated in March
    issued(a, status="expired", expires_at=at(2, 15))
    issued(a, status="issued", expires_at=at(2, 16))  # past its date, the sweep has not run yet: breakage all the same
    issued(a, status="revoked", last_status_change_on=at(2, 20))
    issued(a, on=at(3, 5))  # issued after February
    CouponFactory(series=a, unissued=True)  # never issued: owes nothing
    redeem(issued(a, status="redeemed"), on=at(2, 7), discount="4.60", currency="EUR")  # converted at the till
    issued(b)
    redeem(issued(b, status="redeemed"), on=at(2, 8), discount="3.20", currency="EUR")
    issued(c)
    issued(c, status="expired", expires_at=at(2, 1))
    used = issued(m)
    redeem(used, on=at(2, 2), discount="2.00")
    redeem(used, on=at(2, 3), discount="2.00")
    member = MemberFactory()
    for points, on in ((100, at(1, 5)), (50, at(2, 10)), (-30, at(3, 2))):
        PointsEntry.objects.create(member=member, points=points, balance_after=0, kind="adjustment", actor="t",
                                   channel="cli", created_at=on)  # fmt: skip
    return {"A": a.pk, "B": b.pk, "C": c.pk, "M": m.pk}
