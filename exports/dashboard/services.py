"""Rebuilding the dashboard's daily figures for a set of days, one grouped query per figure for the whole set.

A day is a calendar day in the program's time zone (TIME_ZONE). Rebuilding replaces every figure of the days
asked for in one transaction, so a refresh can run again at any time (the beat schedule refreshes today and
yesterday every few minutes; a backfill asks for the last 90 days once) and never counts anything twice.
The coupons expiring in the next days and the liability are figures of the last day of the set: what was
outstanding when it was refreshed.
"""

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from coupons.models import Coupon, CouponRedemption
from exports.dashboard.models import DailyFigure
from exports.reports.liability import liability_report
from members.models import PointsEntry
from offers.models import OfferResponse

Metric = DailyFigure.Metric
EXPIRING_DAYS = 7


def start_of_day(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def _per_day(queryset, field: str, *, group_by: tuple[str, ...] = (), **aggregates):
    """Rows of `queryset` grouped by the local day of `field` (and `group_by`), with `aggregates`."""
    tz = timezone.get_current_timezone()
    return queryset.annotate(day=TruncDate(field, tzinfo=tz)).values("day", *group_by).annotate(**aggregates).order_by()


def dashboard_days_refresh(*, days: Iterable[date]) -> int:
    """Rebuild the dashboard figures of `days`; returns the number of figures written."""
    wanted = sorted(set(days))
    if not wanted:
        return 0
    since, until = start_of_day(wanted[0]), start_of_day(wanted[-1] + timedelta(days=1))
    wanted_set, now = set(wanted), timezone.now()
    figures: list[DailyFigure] = []

    def add(day, metric, *, scope_id=DailyFigure.WHOLE_PROGRAM, currency="", count=0, amount=Decimal("0")):
        if day in wanted_set or metric == Metric.EXPIRING:
            figures.append(DailyFigure(day=day, metric=metric, scope_id=scope_id, currency=currency or "",
                                       count=count or 0, amount=amount or 0, refreshed_at=now))  # fmt: skip

    issued = Coupon.objects.filter(issued_at__gte=since, issued_at__lt=until)
    for row in _per_day(issued, "issued_at", n=Count("id")):
        add(row["day"], Metric.ISSUED, count=row["n"])

    redemptions = CouponRedemption.objects.filter(redeemed_at__gte=since, redeemed_at__lt=until, is_reversed=False)
    for row in _per_day(redemptions, "redeemed_at", group_by=("series_id", "currency"), n=Count("id"),
                        value=Sum("discount_amount")):  # fmt: skip
        add(row["day"], Metric.SERIES_REDEMPTIONS, scope_id=row["series_id"], currency=row["currency"],
            count=row["n"], amount=row["value"])  # fmt: skip
    for row in _per_day(redemptions, "redeemed_at", group_by=("series__offer_id",), n=Count("id")):
        add(row["day"], Metric.OFFER_REDEMPTIONS, scope_id=row["series__offer_id"], count=row["n"])

    responses = OfferResponse.objects.filter(created_at__gte=since, created_at__lt=until)
    for row in _per_day(responses, "created_at", n=Count("id")):
        add(row["day"], Metric.RESPONSES, count=row["n"])

    points = PointsEntry.objects.filter(created_at__gte=since, created_at__lt=until)
    for row in _per_day(points, "created_at", awarded=Sum("points", filter=Q(points__gt=0)),
                        spent=Sum("points", filter=Q(points__lt=0))):  # fmt: skip
        if row["awarded"]:
            add(row["day"], Metric.POINTS_AWARDED, count=row["awarded"])
        if row["spent"]:
            add(row["day"], Metric.POINTS_SPENT, count=-row["spent"])

    latest = wanted[-1]
    expiring_until = start_of_day(latest + timedelta(days=EXPIRING_DAYS + 1))
    expiring = Coupon.objects.filter(status=Coupon.Status.ISSUED, expires_at__gte=max(now, since),
                                     expires_at__lt=expiring_until)  # fmt: skip
    for row in _per_day(expiring, "expires_at", n=Count("id")):
        add(row["day"], Metric.EXPIRING, count=row["n"])

    by_currency: dict[str, list] = {}
    for row in liability_report(as_of=latest)["coupons"]:
        if row.currency and row.issued_open_count:
            totals = by_currency.setdefault(row.currency, [0, Decimal("0")])
            totals[0] += row.issued_open_count
            totals[1] += row.issued_open_value
    for currency, (count, value) in by_currency.items():
        add(latest, Metric.LIABILITY, currency=currency, count=count, amount=value)

    with transaction.atomic():
        DailyFigure.objects.filter(day__in=wanted).exclude(metric=Metric.EXPIRING).delete()
        DailyFigure.objects.filter(metric=Metric.EXPIRING).delete()
        DailyFigure.objects.bulk_create(figures, batch_size=1000)
    return len(figures)


def dashboard_recent_refresh(*, days_back: int = 1) -> int:
    """Rebuild today and the `days_back` days before it (the beat schedule's call)."""
    today = timezone.localdate()
    return dashboard_days_refresh(days=[today - timedelta(days=n) for n in range(days_back + 1)])
