"""Coupon expiry reminders (seed 003): per series, reminders N days before expiry at a set time, by SMS or email.

A reminder's moment for a coupon is the local date of the coupon's expiry minus N days, at the reminder's
HH:MM, in `settings.REMINDERS_TIME_ZONE` (default `TIME_ZONE`). A run sends the reminders whose moment
has come and is at most `REMINDERS_LATE_HOURS` old, to issued coupons that have not expired yet.

At most once per (coupon, reminder), however often and however concurrently the run happens: a run first
claims delivery rows (INSERT … ON CONFLICT DO NOTHING on the unique pair, with a claim token of its own),
commits, and sends only the rows its token claimed; each is then recorded sent, failed or skipped. A run
killed between claim and send leaves the claim: the reminder is not sent twice (the claimed row shows it).
"""

import logging
import re
import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core import mail
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from config import sms
from config.actors import Actor
from coupons.models import Coupon, CouponSeries, Reminder, ReminderDelivery

logger = logging.getLogger(__name__)

Delivery = ReminderDelivery.Status

DEFAULT_SMS_TEMPLATE = "Hi {member_name}, your {offer_name} coupon {code} expires on {expiry_date}. Use it before then!"
DEFAULT_EMAIL_SUBJECT = "Your {offer_name} coupon expires on {expiry_date}"
DEFAULT_EMAIL_BODY = (
    "Hi {member_name},\n\n"
    "Your coupon {code} for {offer_name} expires on {expiry_date}.\n"
    "Show the code at the till before then to use it.\n"
)

TAG_RE = re.compile(r"\{(\w+)\}")


def render_tags(template: str, context: dict[str, object]) -> str:
    """Replace {tag} with its value; unknown tags and stray braces stay as written (never an error)."""
    return TAG_RE.sub(lambda match: str(context[match[1]]) if match[1] in context else match[0], template)


def reminders_time_zone() -> tzinfo:
    return ZoneInfo(settings.REMINDERS_TIME_ZONE or settings.TIME_ZONE)


def reminder_expiry_windows(
    *, days_before_expiry: int, at: time, now: datetime, late: timedelta, tz: tzinfo
) -> list[tuple[datetime, datetime]]:
    """The [start, end) ranges of `expires_at` whose reminder moment falls in (now - late, now].

    The moment of a coupon expiring on local day D is (D - days_before_expiry) at `at`, local time.
    """
    lower = now - late
    windows = []
    day: date = lower.astimezone(tz).date()
    while day <= now.astimezone(tz).date():
        moment = datetime.combine(day, at, tzinfo=tz)
        if lower < moment <= now:
            expiry_day = day + timedelta(days=days_before_expiry)
            windows.append(
                (
                    datetime.combine(expiry_day, time.min, tzinfo=tz),
                    datetime.combine(expiry_day + timedelta(days=1), time.min, tzinfo=tz),
                )
            )
        day += timedelta(days=1)
    return windows


@dataclass
class ReminderRunResult:
    claimed: int = 0
    sent: int = 0
    failed: int = 0
    skipped: int = 0

    def as_dict(self) -> dict[str, int]:
        return {"claimed": self.claimed, "sent": self.sent, "failed": self.failed, "skipped": self.skipped}


def reminders_send_due(*, actor: Actor, now: datetime | None = None, batch_size: int = 500) -> ReminderRunResult:
    """Send every reminder that is due now, each at most once per coupon; returns the counts."""
    now = now or timezone.now()
    tz = reminders_time_zone()
    late = timedelta(hours=settings.REMINDERS_LATE_HOURS)
    result = ReminderRunResult()
    reminders = Reminder.objects.select_related("series__offer").filter(
        series__issued_by=CouponSeries.IssuedBy.PLATFORM
    )
    for reminder in reminders.order_by("pk"):
        windows = reminder_expiry_windows(
            days_before_expiry=reminder.days_before_expiry, at=reminder.time, now=now, late=late, tz=tz
        )
        if windows:
            _send_for_reminder(reminder=reminder, windows=windows, now=now, tz=tz, batch_size=batch_size, result=result)
    if result.claimed:
        logger.info("Reminders by %s: %s", actor.name, result.as_dict())
    return result


def _send_for_reminder(*, reminder, windows, now, tz, batch_size, result) -> None:
    in_windows = Q()
    for start, end in windows:
        in_windows |= Q(expires_at__gte=start, expires_at__lt=end)
    already = ReminderDelivery.objects.filter(coupon_id=OuterRef("pk"), reminder_id=reminder.pk)
    due = (
        Coupon.objects.filter(in_windows, series_id=reminder.series_id, status=Coupon.Status.ISSUED,
                              member__isnull=False, expires_at__gt=now)
        .filter(~Exists(already))
        .order_by("pk")
    )  # fmt: skip
    while True:
        coupon_ids = list(due.values_list("pk", flat=True)[:batch_size])
        if not coupon_ids:
            return
        claimed = _claim(reminder=reminder, coupon_ids=coupon_ids)
        result.claimed += len(claimed)
        _deliver(reminder=reminder, deliveries=claimed, tz=tz, result=result)


def _claim(*, reminder: Reminder, coupon_ids: list[int]) -> list[ReminderDelivery]:
    """Insert claims for the coupons and return the ones this call won (committed before any send)."""
    token = uuid.uuid4()
    with transaction.atomic():
        ReminderDelivery.objects.bulk_create(
            [ReminderDelivery(reminder=reminder, coupon_id=pk, channel=reminder.channel, claim_token=token)
             for pk in coupon_ids],
            ignore_conflicts=True,
        )  # fmt: skip
    return list(
        ReminderDelivery.objects.filter(claim_token=token).select_related("coupon__member").order_by("coupon_id")
    )


def _deliver(*, reminder: Reminder, deliveries: list[ReminderDelivery], tz, result: ReminderRunResult) -> None:
    connection = sms.get_connection() if reminder.channel == Reminder.Channel.SMS else mail.get_connection()
    for delivery in deliveries:
        coupon, member = delivery.coupon, delivery.coupon.member
        context = {
            "member_name": f"{member.first_name} {member.last_name}".strip() or "there",
            "code": coupon.code,
            "expiry_date": timezone.localtime(coupon.expires_at, tz).date().isoformat(),
            "offer_name": reminder.series.offer.name,
        }
        if reminder.channel == Reminder.Channel.SMS:
            recipient, body = member.mobile, render_tags(DEFAULT_SMS_TEMPLATE, context)
        else:
            recipient, body = member.email, render_tags(DEFAULT_EMAIL_BODY, context)
        if not recipient:
            _record(
                delivery, Delivery.SKIPPED, recipient="", body=body, error=f"The member has no {_address(reminder)}."
            )
            result.skipped += 1
            continue
        try:
            if reminder.channel == Reminder.Channel.SMS:
                connection.send_messages([sms.SmsMessage(to=recipient, body=body)])
            else:
                subject = render_tags(DEFAULT_EMAIL_SUBJECT, context)
                mail.EmailMessage(subject, body, to=[recipient], connection=connection).send()
        except Exception as exc:
            logger.warning("Reminder %s for coupon %s failed: %s", reminder.pk, coupon.pk, exc)
            _record(delivery, Delivery.FAILED, recipient=recipient, body=body, error=f"{type(exc).__name__}: {exc}")
            result.failed += 1
            continue
        _record(delivery, Delivery.SENT, recipient=recipient, body=body, error="")
        result.sent += 1


def _address(reminder) -> str:
    return "mobile number" if reminder.channel == Reminder.Channel.SMS else "email address"


def _record(delivery: ReminderDelivery, status: str, *, recipient: str, body: str, error: str) -> None:
    ReminderDelivery.objects.filter(pk=delivery.pk, status=Delivery.CLAIMED).update(
        status=status, recipient=recipient[:254], body=body, error=error, finished_at=timezone.now()
    )
