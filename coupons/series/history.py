"""What the audit trail keeps of a coupon series: its settings, store and exclusion lists, and its reminders."""

from audit.snapshots import prefixed, snapshot
from coupons.models import CouponSeries

# Kept by the services that count and generate, and recorded by their own acts (issuance, uploads, revoke).
SERIES_NOT_AUDITED = ("code_key", "next_code_index", "limit_notified_at", "created_at")


def series_snapshot(series: CouponSeries) -> dict:
    values = snapshot(series, exclude=SERIES_NOT_AUDITED)
    for reminder in series.reminders.all():
        part = f"reminders[{reminder.days_before_expiry} days, {reminder.channel}]"
        values.update(prefixed(part, snapshot(reminder, exclude=["series"])))
    return values
