"""Closing the liability day by day, so the report carries a closed day's figures forward instead of reading
every coupon (exports/reports/liability_figures.py says how).

`liability_days_close` runs on the beat schedule. A day can be closed once the offline window
(OFFLINE_WINDOW_HOURS) and an hour more have passed after its end: no write can then still carry a time inside
it. The first close reads every coupon (once); each later day is the day before carried forward, so a close costs
what changed that day. A closed day is never written again.
"""

from datetime import date, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from config.actors import Actor
from exports.reports.liability_figures import Figures, end_of_day, figures_carried, figures_scanned
from exports.reports.models import LiabilityClose, LiabilityCloseLine

SETTLE_MARGIN = timedelta(hours=1)


def last_closable_day(now=None) -> date:
    """The newest day no write can still reach: its end is at least the offline window (and a margin) ago."""
    now = now or timezone.now()
    settled = now - timedelta(hours=settings.OFFLINE_WINDOW_HOURS) - SETTLE_MARGIN
    return timezone.localdate(settled) - timedelta(days=1)


def liability_days_close(*, actor: Actor, now=None) -> int:
    """Close every day up to the last closable one that is not closed yet; returns how many were closed."""
    target = last_closable_day(now)
    latest = LiabilityClose.objects.order_by("-day").first()
    if latest is None:
        with transaction.atomic():
            figures = figures_scanned(end_of_day(target))
            _close_write(day=target, figures=figures, method=LiabilityClose.Method.SCAN, actor=actor)
        return 1
    closed, figures, day = 0, close_figures(latest), latest.day
    while day < target:
        following = day + timedelta(days=1)
        figures = figures_carried(figures, since=end_of_day(day), at=end_of_day(following))
        with transaction.atomic():
            _close_write(day=following, figures=figures, method=LiabilityClose.Method.CARRIED, actor=actor)
        closed, day = closed + 1, following
    return closed


def close_figures(close: LiabilityClose) -> Figures:
    figures = Figures(points=close.points_outstanding)
    for line in close.lines.all():
        if line.kind == LiabilityCloseLine.Kind.COUPONS:
            figures.add_coupons(line.series_id, "open", line.open_count)
            figures.add_coupons(line.series_id, "expired", line.expired_count)
            figures.add_coupons(line.series_id, "revoked", line.revoked_count)
        else:
            figures.add_redemptions(line.series_id, line.currency, line.redeemed_count, line.redeemed_value)
    return figures


def _close_write(*, day: date, figures: Figures, method: str, actor: Actor) -> LiabilityClose:
    close = LiabilityClose.objects.create(
        day=day, points_outstanding=figures.points, method=method, actor=actor.name[:100]
    )
    # A coupons line carries no currency: its figures are in the series' currency, read when the report is built.
    kind = LiabilityCloseLine.Kind
    lines = [
        LiabilityCloseLine(
            close=close, kind=kind.COUPONS, series_id=series_id, open_count=counts["open"],
            expired_count=counts["expired"], revoked_count=counts["revoked"],
        )
        for series_id, counts in figures.coupons.items()
        if any(counts.values())
    ] + [
        LiabilityCloseLine(
            close=close, kind=kind.REDEMPTIONS, series_id=series_id, currency=currency, redeemed_count=count,
            redeemed_value=value,
        )
        for (series_id, currency), (count, value) in figures.redemptions.items()
        if count or value
    ]  # fmt: skip
    LiabilityCloseLine.objects.bulk_create(lines, batch_size=1000)
    return close


def figures_as_of(as_of: date) -> Figures:
    """The figures at the end of `as_of`: a closed day as it was closed, a later day carried forward from the newest
    close before it, a day before the first close read from every coupon."""
    close = LiabilityClose.objects.filter(day__lte=as_of).order_by("-day").prefetch_related("lines").first()
    if close is None:
        return figures_scanned(end_of_day(as_of))
    figures = close_figures(close)
    if close.day == as_of:
        return figures
    return figures_carried(figures, since=end_of_day(close.day), at=end_of_day(as_of))
