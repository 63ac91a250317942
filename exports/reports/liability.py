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

Four queries whatever the number of coupons: coupons by series and state, redemptions by series and currency
(both aggregated by the database), the series named in them, and the sum of the points ledger. The redeemed test
is one uncorrelated `IN (SELECT …)` the database hashes once.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.conf import settings
from django.db.models import Case, Count, Q, Sum, Value, When
from django.utils import timezone

from config.db_router import reads_may_lag
from coupons.models import Coupon, CouponRedemption, CouponSeries
from members.models import PointsEntry

ZERO = Decimal("0.00")
OPEN, REDEEMED, EXPIRED, REVOKED = "open", "redeemed", "expired", "revoked"


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


# Aggregates over every coupon and the whole ledger: read from the replica, seconds behind at worst.
@reads_may_lag()
def liability_report(*, as_of: date, currency: str | None = None) -> dict:
    at = end_of_day(as_of)
    coupons, redemptions = list(_coupon_figures(at, currency)), list(_redemption_figures(at, currency))
    series = {
        row["id"]: row
        for row in CouponSeries.objects.filter(
            pk__in={figures["series_id"] for figures in coupons + redemptions}
        ).values("id", "name", "discount_type", "discount_value", "discount_currency")
    }
    rows: dict[tuple[int, str | None], SeriesLiability] = {}

    def row_for(series_id: int, row_currency: str | None) -> SeriesLiability:
        key = (series_id, row_currency or None)
        if key not in rows:
            rows[key] = SeriesLiability(series=series_id, series_name=series[series_id]["name"], currency=key[1])
        return rows[key]

    for figures in coupons:
        of = series[figures["series_id"]]
        row = row_for(of["id"], of["discount_currency"])  # a redeemed state only shows the series
        face = of["discount_value"] if of["discount_type"] == "fixed" else ZERO
        count = figures["count"]
        if figures["state"] == OPEN:
            row.issued_open_count, row.issued_open_value = count, face * count
        elif figures["state"] == EXPIRED:
            row.expired_count, row.expired_value = count, face * count
        elif figures["state"] == REVOKED:
            row.revoked_count = count
    for figures in redemptions:
        row = row_for(figures["series_id"], figures["currency"])
        row.redeemed_count, row.redeemed_value = figures["count"], figures["value"] or ZERO
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
    """Coupons issued by `at`, counted by series and by their state then; one CASE a coupon, so the redeemed
    test (a hashed subquery) is probed once a coupon."""
    redeemed = Q(id__in=live_redemptions(at).values("coupon_id")) & Q(series__multi_use=False)
    state = Case(
        When(Q(status=Coupon.Status.REVOKED, last_status_change_on__lt=at), then=Value(REVOKED)),
        When(redeemed, then=Value(REDEEMED)),
        When(expires_at__lt=at, then=Value(EXPIRED)),
        default=Value(OPEN),
    )
    coupons = Coupon.objects.filter(issued_at__lt=at)
    if currency:
        coupons = coupons.filter(series__discount_currency=currency)
    # Grouped on the two narrow keys only: the series' details come in a query of their own, so the
    # database aggregates in a hash table instead of sorting a million wide rows.
    return coupons.annotate(state=state).values("series_id", "state").annotate(count=Count("id")).order_by()


def _redemption_figures(at: datetime, currency: str | None):
    redemptions = live_redemptions(at)
    if currency:
        redemptions = redemptions.filter(currency=currency)
    return (
        redemptions.values("series_id", "currency").annotate(count=Count("id"), value=Sum("discount_amount")).order_by()
    )
