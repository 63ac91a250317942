"""Code guessing: unknown codes tried by one POS client, counted per minute with an atomic counter.

The counter is a database row per (client, minute) bumped with `UPDATE … SET attempts = attempts + 1`
(a row lock, so concurrent requests never lose a count); the same code runs on SQLite and PostgreSQL,
and a blocked client costs one indexed read per request. Once a client's unknown codes in the current
minute reach `COUPON_UNKNOWN_CODES_PER_MINUTE` (default 20), its validations and redemptions answer
429 `too_many_unknown_codes` with Retry-After until the minute ends, and the burst is recorded once
(`UnknownCodeBurst`, listed in the admin). Known codes that fail a rule never count.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from .models import UnknownCodeBurst, UnknownCodeWindow

WINDOW = timedelta(minutes=1)


def limit() -> int:
    return int(getattr(settings, "COUPON_UNKNOWN_CODES_PER_MINUTE", 20))


def window_start(now: datetime) -> datetime:
    return now.replace(second=0, microsecond=0)


def retry_after_seconds(now: datetime) -> int:
    return max(1, int((window_start(now) + WINDOW - now).total_seconds() + 0.999))


def client_blocked(*, client, now=None) -> int | None:
    """Seconds the client must wait, or None when it may go on."""
    now = now or timezone.now()
    attempts = (
        UnknownCodeWindow.objects.filter(client=client, window_start=window_start(now))
        .values_list("attempts", flat=True)
        .first()
    )
    return blocked_for(attempts, now)


def blocked_for(attempts: int | None, now: datetime) -> int | None:
    """Seconds to wait for a client with this many unknown codes in the minute of `now`, or None."""
    if attempts is not None and attempts >= limit():
        return retry_after_seconds(now)
    return None


def unknown_code_note(*, client, code: str, now=None) -> int:
    """Count one unknown code for the client; record a burst when this one reaches the limit."""
    now = now or timezone.now()
    start = window_start(now)
    with transaction.atomic():
        rows = UnknownCodeWindow.objects.filter(client=client, window_start=start)
        if not rows.update(attempts=F("attempts") + 1):
            try:
                with transaction.atomic():
                    UnknownCodeWindow.objects.create(client=client, window_start=start, attempts=1)
                # a new minute: forget this client's old minutes so the table stays small
                UnknownCodeWindow.objects.filter(client=client, window_start__lt=start - timedelta(hours=1)).delete()
            except IntegrityError:
                rows.update(attempts=F("attempts") + 1)
        attempts = rows.values_list("attempts", flat=True).get()
        if attempts == limit():
            UnknownCodeBurst.objects.get_or_create(
                client=client, window_start=start, defaults={"limit": limit(), "last_code_tried": code[:64]}
            )
    return attempts
