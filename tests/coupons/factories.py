import uuid
from datetime import time, timedelta

import factory
from django.utils import timezone

from coupons.models import BulkIssueJob, Coupon, CouponRedemption, CouponSeries, Reminder, ReminderDelivery, Upload
from tests.jobs.factories import JobRowFactory
from tests.members.factories import MemberFactory, SegmentFactory
from tests.offers.factories import OfferFactory


class CouponSeriesFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CouponSeries

    offer = factory.SubFactory(OfferFactory, expiring=True)  # the series expires with its offer
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
    """An issued coupon written directly, without the issuance rules; traits put it in the other states."""

    class Meta:
        model = Coupon

    series = factory.SubFactory(CouponSeriesFactory)
    code = factory.Sequence(lambda n: f"CPN{n:06d}")
    member = factory.SubFactory(MemberFactory)
    status = Coupon.Status.ISSUED
    issued_at = factory.LazyFunction(timezone.now)

    class Params:
        unissued = factory.Trait(status=Coupon.Status.UNISSUED, member=None, issued_at=None)
        redeemed = factory.Trait(status=Coupon.Status.REDEEMED)
        expired = factory.Trait(
            status=Coupon.Status.EXPIRED, expires_at=factory.LazyFunction(lambda: timezone.now() - timedelta(days=1))
        )
        revoked = factory.Trait(status=Coupon.Status.REVOKED)


class CouponRedemptionFactory(factory.django.DjangoModelFactory):
    """A redemption row written directly, without the till's rules (its coupon stays as the factory made it)."""

    class Meta:
        model = CouponRedemption

    coupon = factory.SubFactory(CouponFactory, redeemed=True)
    series = factory.SelfAttribute("coupon.series")
    member = factory.SelfAttribute("coupon.member")
    store = factory.SubFactory("tests.members.factories.OrgEntityFactory", type="store")
    bill_amount = 50
    discount_amount = 5
    currency = "USD"
    actor = "till"
    channel = "api:pos"


class ReminderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Reminder

    series = factory.SubFactory(CouponSeriesFactory)
    days_before_expiry = 1
    channel = Reminder.Channel.SMS
    time = time(9, 0)


class ReminderDeliveryFactory(factory.django.DjangoModelFactory):
    """A claimed delivery; `sent` or `failed` finish it."""

    class Meta:
        model = ReminderDelivery

    reminder = factory.SubFactory(ReminderFactory)
    coupon = factory.SubFactory(CouponFactory, series=factory.SelfAttribute("..reminder.series"))
    channel = factory.SelfAttribute("reminder.channel")
    claim_token = factory.LazyFunction(uuid.uuid4)

    class Params:
        sent = factory.Trait(status=ReminderDelivery.Status.SENT, finished_at=factory.LazyFunction(timezone.now))
        failed = factory.Trait(status=ReminderDelivery.Status.FAILED, error="gateway down",
                               finished_at=factory.LazyFunction(timezone.now))  # fmt: skip


class UploadFactory(JobRowFactory):
    """A members upload row (its file need not exist); `codes=True` for existing codes."""

    class Meta:
        model = Upload

    series = factory.SubFactory(CouponSeriesFactory)
    kind = Upload.Kind.MEMBERS
    file = "coupon_uploads/m.csv"

    class Params:
        codes = factory.Trait(kind=Upload.Kind.CODES, file="coupon_uploads/codes.csv")


class BulkIssueJobFactory(JobRowFactory):
    """A job over a new segment (`segment__member_count=N` fills it), or over the series' list."""

    class Meta:
        model = BulkIssueJob

    series = factory.SubFactory(CouponSeriesFactory)
    source = BulkIssueJob.Source.SEGMENT
    segment = factory.SubFactory(SegmentFactory)

    class Params:
        allowed_list = factory.Trait(source=BulkIssueJob.Source.ALLOWED_LIST, segment=None)
