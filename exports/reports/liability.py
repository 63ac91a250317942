"""The money view: what the program owes in coupons and points as of a date, and what it no longer owes.

As of a date means at the end of that day (midnight after it, in `TIME_ZONE`), read from what the rows say
happened and when, not from today's statuses:
- a coupon counts once it was issued (`issued_at` before that moment);
- it was redeemed then if a redemption happened before it and had not been reversed before it (a reversal after
  the date leaves it redeemed as of the date); a multi-use coupon stays open however often it is used;
- it was revoked then if it is revoked now and was revoked before it (revoked is final, so the time of its last
  status change is the time of the revoke; a revoked code issued again by an upload has a new `issued_at`);
- otherwise it had expired if its expiry date had passed (breakage, whether or not the sweep had run), and
  else it was open.
Open and expired values are the fixed discounts of those coupons in the series' currency; a percentage coupon
carries no fixed value and counts with value 0. Redeemed values are the discounts given, in the currency of the
redemption. So a row is a series and a currency: the series' own currency carries its open and expired
figures, and each currency it was redeemed in carries those redemptions.

Three aggregate queries (coupons by series, redemptions by series and currency, the points ledger), whatever
the number of coupons; the redeemed test is one uncorrelated `IN (SELECT …)` the database hashes once.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.conf import settings
from django.db.models import Count, Q, Sum
from django.utils import timezone

from coupons.models import Coupon, CouponRedemption
from members.models import PointsEntry

ZERO = Decimal("0.00")


@dataclass
class SeriesLiability:
    series: int
    series_name: str
    currency: str | None
    issued_open_count: int = 0
    issued_open_value: Decimal = ZERO
    redeemed_count: int = 0
    redeemed_value: Decimal = ZERO
    expired_count: int = 0
    expired_value: Decimal = ZERO
    revoked_count: int = 0


def end_of_day(as_of: date) -> datetime:
    """The first moment after `as_of`, in the server's time zone."""
    return timezone.make_aware(datetime.combine(as_of + timedelta(days=1), time.min))


def live_redemptions(at: datetime):
    """Redemptions made before `at` and not reversed before it."""
    reversed_before = Q(is_reversed=True, reversed_at__lt=at)
    return CouponRedemption.objects.filter(Q(redeemed_at__lt=at) & ~reversed_before)


def liability_report(*, as_of: date, currency: str | None = None) -> dict:
    at = end_of_day(as_of)
    rows: dict[tuple[int, str | None], SeriesLiability] = {}
    for figures in _coupon_figures(at, currency):
        face = figures["series__discount_value"] if figures["series__discount_type"] == "fixed" else ZERO
        row = SeriesLiability(
            series=figures["series_id"],
            series_name=figures["series__name"],
            currency=figures["series__discount_currency"] or None,
            issued_open_count=figures["open_count"],
            issued_open_value=face * figures["open_count"],
            expired_count=figures["expired_count"],
            expired_value=face * figures["expired_count"],
            revoked_count=figures["revoked_count"],
        )
        rows[(row.series, row.currency)] = row
    for figures in _redemption_figures(at, currency):
        key = (figures["series_id"], figures["currency"] or None)
        row = rows.get(key) or SeriesLiability(series=key[0], series_name=figures["series__name"], currency=key[1])
        row.redeemed_count, row.redeemed_value = figures["count"], figures["value"] or ZERO
        rows[key] = row
    outstanding = PointsEntry.objects.filter(created_at__lt=at).aggregate(total=Sum("points"))["total"] or 0
    point_value = Decimal(settings.POINT_VALUE)
    return {
        "as_of": as_of,
        "coupons": [rows[key] for key in sorted(rows, key=lambda key: (key[0], key[1] or ""))],
        "points": {
            "outstanding": outstanding,
            "value": (point_value * outstanding).quantize(Decimal("0.01")),
            "currency": settings.POINT_VALUE_CURRENCY or None,
        },
    }


def _coupon_figures(at: datetime, currency: str | None):
    redeemed = Q(id__in=live_redemptions(at).values("coupon_id")) & Q(series__multi_use=False)
    revoked = Q(status=Coupon.Status.REVOKED, last_status_change_on__lt=at)
    expired = Q(expires_at__lt=at)
    unexpired = Q(expires_at__isnull=True) | Q(expires_at__gte=at)
    coupons = Coupon.objects.filter(issued_at__lt=at)
    if currency:
        coupons = coupons.filter(series__discount_currency=currency)
    return (
        coupons.values(
            "series_id", "series__name", "series__discount_type", "series__discount_value", "series__discount_currency"
        )
        .annotate(
            open_count=Count("id", filter=~revoked & ~redeemed & unexpired),
            expired_count=Count("id", filter=~revoked & ~redeemed & expired),
            revoked_count=Count("id", filter=revoked),
        )
        .order_by()
    )


def _redemption_figures(at: datetime, currency: str | None):
    redemptions = live_redemptions(at)
    if currency:
        redemptions = redemptions.filter(currency=currency)
    return (
        redemptions.values("series_id", "series__name", "currency")
        .annotate(count=Count("id"), value=Sum("discount_amount"))
        .order_by()
    )
