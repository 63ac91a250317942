"""Counting issued coupons, and the one email when a series nears its limit."""

from django.db.models import F
from django.utils import timezone

from config.tasks import enqueue_on_commit
from coupons.models import CouponSeries
from coupons.series.capacity import series_capacity


def series_note_issued(*, series: CouponSeries, count: int) -> None:
    """Count issued coupons (F()) and, once remaining issuals fall to the threshold, queue ONE email."""
    if count <= 0:
        return
    CouponSeries.objects.filter(pk=series.pk).update(issued_count=F("issued_count") + count)
    series.refresh_from_db(fields=["issued_count", "next_code_index", "code_count", "limit_notified_at"])
    if series.limit_notify_remaining is None or not series.limit_notify_emails:
        return
    remaining = series_capacity(series).remaining
    if remaining is None or remaining > series.limit_notify_remaining:
        return
    claimed = CouponSeries.objects.filter(pk=series.pk, limit_notified_at__isnull=True).update(
        limit_notified_at=timezone.now()
    )
    if claimed:
        from coupons.tasks import series_limit_notify_task

        enqueue_on_commit(series_limit_notify_task, series_id=series.pk, remaining=remaining)


def series_limit_notify(*, series_id: int, remaining: int) -> None:
    from django.core.mail import send_mail

    series = CouponSeries.objects.get(pk=series_id)
    send_mail(
        subject=f"Coupon series {series.name!r}: {remaining} issuals left",
        message=(
            f"The coupon series {series.name!r} (offer {series.offer_id}) has {remaining} issuals left "
            f"of its limit of {series.series_limit}.\n"
        ),
        from_email=None,
        recipient_list=list(series.limit_notify_emails),
    )
