"""The till renders its answers with plain functions; they must give what the schema's serializers give."""

from datetime import timedelta
from datetime import timezone as dt_timezone
from decimal import Decimal

import pytest
from django.utils import timezone

from config.actors import Actor
from coupons.api.serializers import CouponOutputSerializer, coupon_body
from coupons.models import Coupon, CouponRedemption
from coupons.redemption import services as redemption
from coupons.redemption import statements as till
from coupons.redemption.serializers import RedemptionOutputSerializer, redemption_body
from tests.coupons.factories import CouponFactory, CouponSeriesFactory

pytestmark = pytest.mark.django_db

Status = Coupon.Status
LATER = timedelta(days=30)


def coupons_of_every_kind():
    now = timezone.now()
    yield "issued", CouponFactory(expires_at=now + LATER, redeemable_from=now)
    yield "issued, no dates", CouponFactory(expires_at=None, redeemable_from=None)
    yield "unissued", CouponFactory(status=Status.UNISSUED, member=None, issued_at=None, expires_at=None)
    yield "redeemed", CouponFactory(status=Status.REDEEMED, expires_at=now + LATER)
    yield "expired", CouponFactory(status=Status.EXPIRED, expires_at=now - LATER)
    yield "revoked with a member", CouponFactory(status=Status.REVOKED)
    yield "revoked without one", CouponFactory(status=Status.REVOKED, member=None, issued_at=None)
    yield "reversed", CouponFactory(is_reversed=True, last_status_change_on=now - timedelta(hours=1))
    series = CouponSeriesFactory(common=True)
    yield "common code", CouponFactory(series=series, code="SAVE10", is_common=True)
    # in memory, as a service leaves it: another time zone, microseconds
    moment = (now + LATER).astimezone(dt_timezone(timedelta(hours=5, minutes=30))).replace(microsecond=123456)
    yield "an offset in memory", CouponFactory.build(pk=10**9, series=series, expires_at=moment, member=None)


def test_coupon_body_is_the_output_serializers_for_every_kind_of_coupon():
    kinds = list(coupons_of_every_kind())
    assert {coupon.status for _, coupon in kinds} == set(Status.values)
    for kind, coupon in kinds:
        expected = CouponOutputSerializer(coupon).data
        body = coupon_body(coupon)
        assert body == expected, kind
        assert list(body) == list(expected), kind


def test_coupon_body_of_the_tills_read_is_the_serializers_of_the_orms_row():
    for kind, coupon in coupons_of_every_kind():
        if coupon.pk == 10**9:
            continue  # never stored
        read = till.coupon_with_series(code=coupon.code, member_id=coupon.member_id)
        owner = coupon.member.external_id if coupon.member_id else None
        expected = CouponOutputSerializer(Coupon.objects.get(pk=coupon.pk)).data
        assert coupon_body(read, member_external_id=owner) == expected, kind


def rendered(row):
    return redemption_body(row, code=row.coupon.code, member=row.member.external_id, store=row.store.code)


def test_redemption_body_is_the_output_serializers(store):
    coupon = CouponFactory(series__discount_type="percentage", series__discount_value=Decimal("12.5"))
    fresh = redemption.coupon_redeem(code=coupon.code, member=coupon.member, store=store, bill_amount=Decimal("19.9"),
                                     actor=Actor.system(), transaction_id="T-1")  # fmt: skip
    other = CouponFactory(series__multi_use=True)
    reversed_row = redemption.coupon_redeem(code=other.code, member=other.member, store=store,
                                            bill_amount=Decimal("1234567890.5"), actor=Actor.system())  # fmt: skip
    reversed_row = redemption.redemption_reverse(redemption=reversed_row, actor=Actor.system())
    assert reversed_row.is_reversed and reversed_row.reversed_at is not None
    rows = {
        "as the redeem service leaves it": fresh,
        "reversed": reversed_row,
        "read back": CouponRedemption.objects.select_related("coupon", "member", "store").get(pk=fresh.pk),
    }
    for kind, row in rows.items():
        expected = RedemptionOutputSerializer(row).data
        assert rendered(row) == expected, kind
        assert list(rendered(row)) == list(expected), kind
