"""Demo data: a coupon series under a demo offer, with coupons issued to the first active members."""

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from config.actors import Actor
from coupons.issuance.services import coupon_issue
from coupons.models import CouponSeries, ExchangeRate
from coupons.series.services import series_create
from members.models import Member
from offers.models import Offer

DEMO_OFFER = "DEMO-COUPON-OFFER"
DEMO_SERIES = "Welcome 10% off"


DEMO_RATES = [("USD", "EUR", "0.92"), ("EUR", "USD", "1.09"), ("USD", "GBP", "0.79"), ("GBP", "USD", "1.27")]


def seed_exchange_rates() -> int:
    """Rates the marketer keeps for fixed discounts in another currency (skipped when present)."""
    created = 0
    for from_currency, to_currency, rate in DEMO_RATES:
        _, made = ExchangeRate.objects.get_or_create(
            from_currency=from_currency, to_currency=to_currency, defaults={"rate": Decimal(rate)}
        )
        created += made
    return created


def seed(*, stdout, actor: Actor) -> None:
    rates = seed_exchange_rates()
    if rates:
        stdout.write(f"coupons: {rates} exchange rates")
    if CouponSeries.objects.filter(name=DEMO_SERIES, offer__external_id=DEMO_OFFER).exists():
        stdout.write("coupons: demo data present, skipped")
        return
    offer = Offer.objects.filter(external_id=DEMO_OFFER).first()
    if offer is None:
        now = timezone.now()
        offer = Offer.objects.create(
            external_id=DEMO_OFFER,
            name="Coupon demo offer",
            category="coupons",
            publish_at=now - timedelta(days=1),
            expire_at=now + timedelta(days=180),
        )
    series = series_create(
        actor=actor,
        offer=offer,
        name=DEMO_SERIES,
        code_mode=CouponSeries.CodeMode.UNIQUE,
        code_length=10,
        code_charset=CouponSeries.Charset.ALPHANUMERIC,
        discount_type=CouponSeries.DiscountType.PERCENTAGE,
        discount_value=10,
        discount_currency="USD",
        expiry_mode=CouponSeries.ExpiryMode.DAYS_FROM_ISSUE,
        expiry_days=30,
        max_per_member=1,
        on_rematch=CouponSeries.OnRematch.RESEND_EXISTING,
        series_limit=10_000,
        limit_notify_remaining=100,
        limit_notify_emails=["marketing@example.com"],
        reminders=[{"days_before_expiry": 3, "channel": "sms", "time": "10:00"}],
    )
    members = Member.objects.filter(status=Member.Status.ACTIVE).order_by("external_id")[:50]
    issued = sum(1 for member in members if coupon_issue(series=series, member=member, actor=actor).coupon)
    stdout.write(f"coupons: series {series.name!r} with {issued} issued coupons")
