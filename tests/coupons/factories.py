from datetime import timedelta

import factory
from django.utils import timezone

from coupons.models import Coupon, CouponSeries
from offers.models import Offer
from tests.members.factories import MemberFactory


class OfferFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Offer

    external_id = factory.Sequence(lambda n: f"OFFER-{n}")
    name = factory.Sequence(lambda n: f"Offer {n}")
    expire_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=365))


class CouponSeriesFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CouponSeries

    offer = factory.SubFactory(OfferFactory)
    name = factory.Sequence(lambda n: f"Series {n}")
    code_mode = CouponSeries.CodeMode.UNIQUE
    code_length = 8
    code_charset = CouponSeries.Charset.ALPHANUMERIC
    discount_type = CouponSeries.DiscountType.FIXED
    discount_value = 5
    discount_currency = "USD"
    expiry_mode = CouponSeries.ExpiryMode.WITH_OFFER

    class Params:
        common = factory.Trait(code_mode=CouponSeries.CodeMode.COMMON, common_code="SAVE10", code_length=None,
                               code_charset="")  # fmt: skip
        uploaded = factory.Trait(code_mode=CouponSeries.CodeMode.UPLOAD, code_length=None, code_charset="")


class CouponFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Coupon

    series = factory.SubFactory(CouponSeriesFactory)
    code = factory.Sequence(lambda n: f"CPN{n:06d}")
    member = factory.SubFactory(MemberFactory)
    status = Coupon.Status.ISSUED
    issued_at = factory.LazyFunction(timezone.now)
