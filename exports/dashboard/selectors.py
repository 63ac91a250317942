"""What the admin's dashboard shows, read from the daily figures (never from the coupons themselves) and from the
job tables' live rows, in a fixed number of queries whatever the size of the program."""

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import Sum

from coupons import selectors as coupon_selectors
from coupons.models import BulkIssueJob, CouponSeries, Upload
from exports import selectors as export_selectors
from exports.dashboard.models import DailyFigure
from exports.models import ExportRun
from offers.models import Offer

Metric = DailyFigure.Metric
HISTORY_DAYS = 90
TOP = 5
LIVE_JOBS = 10


@dataclass
class Ranked:
    pk: int
    name: str
    redemptions: int


@dataclass
class LiveJob:
    kind: str
    name: str
    progress: dict  # config.progress.job_progress's shape, as the job's own page polls it
    admin_url_name: str
    pk: int

    @property
    def percent(self) -> int | None:
        done, total = self.progress["done"], self.progress["total"]
        return min(100, round(100 * done / total)) if total else None

    @property
    def description(self) -> str:
        total = self.progress["total"]
        return f"{self.progress['done']:,} of {total:,}" if total else f"{self.progress['done']:,}"


@dataclass
class Dashboard:
    days: list[date]
    series: dict[str, list[int]]  # metric → one figure per day of `days`
    totals: dict[str, int]
    top_series: list[Ranked]
    top_offers: list[Ranked]
    liability: list[dict]  # currency, open coupons, their value
    expiring: list[dict]  # day, coupons
    expiring_total: int
    live_jobs: list[LiveJob] = field(default_factory=list)
    refreshed_at: object = None


def _ranked(figures, model) -> list[Ranked]:
    rows = list(figures.values("scope_id").annotate(n=Sum("count")).order_by("-n", "scope_id")[:TOP])
    names = dict(model.objects.filter(pk__in=[row["scope_id"] for row in rows]).values_list("pk", "name"))
    return [Ranked(pk=row["scope_id"], name=names.get(row["scope_id"], "(deleted)"), redemptions=row["n"])
            for row in rows]  # fmt: skip


def _live_jobs() -> list[LiveJob]:
    """The newest unfinished bulk issues, uploads and export runs (the job tables' unfinished rows are few)."""
    unfinished = ("queued", "running")
    kinds = (
        ("Bulk issue", BulkIssueJob.objects.select_related("series"), coupon_selectors.bulk_issue_job_progress,
         lambda job: job.series.name, "coupons_bulkissuejob_change"),
        ("Upload", Upload.objects.select_related("series"), coupon_selectors.upload_progress,
         lambda upload: upload.series.name, "coupons_upload_change"),
        ("Export", ExportRun.objects.select_related("definition"), export_selectors.export_run_progress,
         lambda run: run.definition.name, "exports_exportrun_change"),
    )  # fmt: skip
    jobs = []
    for kind, queryset, progress, name, url_name in kinds:
        for job in queryset.filter(status__in=unfinished).order_by("-id")[:LIVE_JOBS]:
            jobs.append(LiveJob(kind=kind, name=name(job), progress=progress(job), admin_url_name=url_name, pk=job.pk))
    return jobs


def dashboard_read(*, today: date) -> Dashboard:
    first = today - timedelta(days=HISTORY_DAYS - 1)
    days = [first + timedelta(days=n) for n in range(HISTORY_DAYS)]
    per_day = {metric: dict.fromkeys(days, 0) for metric in
               (Metric.ISSUED, Metric.SERIES_REDEMPTIONS, Metric.RESPONSES, Metric.POINTS_AWARDED)}  # fmt: skip
    history = (
        DailyFigure.objects.filter(day__gte=first, day__lte=today, metric__in=list(per_day))
        .values("metric", "day")
        .annotate(n=Sum("count"))
        .order_by()
    )
    for row in history:
        per_day[row["metric"]][row["day"]] = row["n"]
    in_range = DailyFigure.objects.filter(day__gte=first, day__lte=today)
    latest_liability = DailyFigure.objects.filter(metric=Metric.LIABILITY, day__lte=today).order_by("-day").first()
    liability = []
    if latest_liability is not None:
        liability = [
            {"currency": figure.currency, "coupons": figure.count, "value": figure.amount}
            for figure in DailyFigure.objects.filter(metric=Metric.LIABILITY, day=latest_liability.day)
        ]
    expiring = [
        {"day": figure.day, "coupons": figure.count}
        for figure in DailyFigure.objects.filter(
            metric=Metric.EXPIRING, day__gte=today, day__lte=today + timedelta(days=7)
        )
    ]
    return Dashboard(
        days=days,
        series={metric: list(values.values()) for metric, values in per_day.items()},
        totals={metric: sum(values.values()) for metric, values in per_day.items()},
        top_series=_ranked(in_range.filter(metric=Metric.SERIES_REDEMPTIONS), CouponSeries),
        top_offers=_ranked(in_range.filter(metric=Metric.OFFER_REDEMPTIONS), Offer),
        liability=sorted(liability, key=lambda row: row["currency"]),
        expiring=expiring,
        expiring_total=sum(row["coupons"] for row in expiring),
        live_jobs=_live_jobs(),
        refreshed_at=latest_liability.refreshed_at if latest_liability else None,
    )


def liability_total(rows: list[dict]) -> Decimal:
    return sum((row["value"] for row in rows), Decimal("0"))
