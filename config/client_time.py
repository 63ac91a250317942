"""Times a client states (a till's `at`, a purchase's `occurred_at`) are believed only near the server's clock.

A till's clock may run a little ahead of ours (`CLIENT_CLOCK_SKEW_SECONDS`, default 5 minutes), and a till
that was offline sends what it did later, but not forever (`OFFLINE_WINDOW_HOURS`, default 72 hours).
Outside that window a stated time is refused with one reason, `time_out_of_range`: otherwise a coupon for
Sundays at 03:00 redeems on a Tuesday by naming next Sunday, and an expired offer awards by naming a day it
was live. Every path that takes a client's time (validate, redeem, transactions, offline redemptions) uses
this one rule.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from config.errors import DomainError

TIME_OUT_OF_RANGE = "time_out_of_range"


@dataclass(frozen=True)
class ClientTimeWindow:
    earliest: datetime
    latest: datetime

    def contains(self, at: datetime) -> bool:
        return self.earliest <= at <= self.latest


def client_time_window(now: datetime | None = None) -> ClientTimeWindow:
    """The times a client may state now: back to the offline window, ahead by the clock skew."""
    now = now or timezone.now()
    return ClientTimeWindow(
        earliest=now - timedelta(hours=settings.OFFLINE_WINDOW_HOURS),
        latest=now + timedelta(seconds=settings.CLIENT_CLOCK_SKEW_SECONDS),
    )


class ClientTimeOutOfRangeError(DomainError):
    code = TIME_OUT_OF_RANGE
    title = "The stated time is out of range"


def client_time_check(at: datetime, *, field: str, now: datetime | None = None) -> None:
    """Refuse `at` (the client's `field`) when it lies outside the window of `client_time_window`."""
    window = client_time_window(now)
    if not window.contains(at):
        raise ClientTimeOutOfRangeError(
            f"`{field}` must lie between {window.earliest.isoformat()} and {window.latest.isoformat()} "
            "(the offline window behind the server's clock, the allowed clock skew ahead of it).",
            reasons=[TIME_OUT_OF_RANGE],
        )
