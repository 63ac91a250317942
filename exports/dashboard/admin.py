"""The admin index as the program's dashboard (UNFOLD["DASHBOARD_CALLBACK"], templates/admin/index.html)."""

import json

from django.conf import settings
from django.utils import timezone

from exports.dashboard.models import DailyFigure
from exports.dashboard.selectors import dashboard_read, liability_total

Metric = DailyFigure.Metric
CHARTS = (
    ("Coupons issued", Metric.ISSUED, "var(--color-primary-600)"),
    ("Coupon redemptions", Metric.SERIES_REDEMPTIONS, "var(--color-green-600, #16a34a)"),
    ("Offer responses", Metric.RESPONSES, "var(--color-blue-600, #2563eb)"),
    ("Points awarded", Metric.POINTS_AWARDED, "var(--color-orange-500, #f97316)"),
)


def _chart(dashboard, label: str, metric: str, colour: str) -> str:
    """Chart.js data for unfold's bar chart component, one bar per day."""
    return json.dumps(
        {
            "labels": [day.strftime("%d %b") for day in dashboard.days],
            "datasets": [{"label": label, "data": dashboard.series[metric], "backgroundColor": colour}],
        }
    )


def dashboard_callback(request, context: dict) -> dict:
    if not request.user.has_perm("coupons.view_coupon"):
        return context
    dashboard = dashboard_read(today=timezone.localdate())
    context.update(
        {
            "dashboard": dashboard,
            "dashboard_charts": [
                {"title": label, "total": dashboard.totals[metric], "data": _chart(dashboard, label, metric, colour)}
                for label, metric, colour in CHARTS
            ],
            "dashboard_liability_total": liability_total(dashboard.liability),
            "time_zone_name": settings.TIME_ZONE,
        }
    )
    return context
