"""What a coupon series' page shows beside its settings: its coupons by status, its uploads, bulk issues and
revokes, and its redemptions per day, in a fixed number of queries whatever the series' size.

Redemptions per day come from the dashboard's daily figures (exports.dashboard, metric SERIES_REDEMPTIONS, one
row per series, day and currency), never from the redemption rows themselves. Counts by status are one
GROUP BY over the series' coupons (on PostgreSQL the BRIN index on series_id bounds it to the series' blocks).
"""

from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import Count, Sum

from coupons.models import BulkIssueJob, Coupon, CouponSeries, SeriesRevokeJob, Upload
from exports.dashboard.models import DailyFigure

HUB_ROWS = 20
REDEMPTION_DAYS = 90


@dataclass
class StatusCount:
    status: str
    label: str
    count: int


@dataclass
class SeriesHub:
    status_counts: list[StatusCount]
    total_coupons: int
    status_filter: str
    status_filter_label: str
    coupons: list[Coupon]
    uploads: list[Upload]
    bulk_jobs: list[BulkIssueJob]
    revoke_jobs: list[SeriesRevokeJob]
    days: list[date]
    redemptions_per_day: list[int]
    redemptions_total: int


def series_status_counts(*, series: CouponSeries) -> list[StatusCount]:
    """Every status in the table's order, with zero for the statuses no coupon of the series has."""
    rows = Coupon.objects.filter(series=series).order_by().values("status").annotate(n=Count("id"))
    counts = {row["status"]: row["n"] for row in rows}
    return [StatusCount(status, label, counts.get(status, 0)) for status, label in Coupon.Status.choices]


def series_redemptions_per_day(*, series: CouponSeries, today: date) -> tuple[list[date], list[int]]:
    first = today - timedelta(days=REDEMPTION_DAYS - 1)
    days = [first + timedelta(days=n) for n in range(REDEMPTION_DAYS)]
    per_day = dict.fromkeys(days, 0)
    figures = (
        DailyFigure.objects.filter(
            metric=DailyFigure.Metric.SERIES_REDEMPTIONS, scope_id=series.pk, day__gte=first, day__lte=today
        )
        .order_by()
        .values("day")
        .annotate(n=Sum("count"))
    )
    for row in figures:
        per_day[row["day"]] = row["n"]
    return days, list(per_day.values())


def series_hub_read(*, series: CouponSeries, today: date, status: str = "") -> SeriesHub:
    status = status if status in Coupon.Status.values else ""
    coupons = Coupon.objects.filter(series=series).select_related("member").order_by("-id")
    if status:
        coupons = coupons.filter(status=status)
    counts = series_status_counts(series=series)
    days, per_day = series_redemptions_per_day(series=series, today=today)
    return SeriesHub(
        status_counts=counts,
        total_coupons=sum(row.count for row in counts),
        status_filter=status,
        status_filter_label=Coupon.Status(status).label.lower() if status else "",
        coupons=list(coupons[:HUB_ROWS]),
        uploads=list(series.uploads.order_by("-created_at", "-id")[:HUB_ROWS]),
        bulk_jobs=list(series.bulk_jobs.select_related("segment").order_by("-created_at", "-id")[:HUB_ROWS]),
        revoke_jobs=list(series.revoke_jobs.order_by("-created_at", "-id")[:HUB_ROWS]),
        days=days,
        redemptions_per_day=per_day,
        redemptions_total=sum(per_day),
    )
