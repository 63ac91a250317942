"""Attempts counted per key and minute, never past a limit, on PostgreSQL and SQLite alike.

What abuse limits count: unknown coupon codes (per POS client and per store), failed token
authentications (per address). Each key has one `AttemptWindow` row per minute. Counting is one
`INSERT … ON CONFLICT DO UPDATE … WHERE attempts < limit RETURNING` over every key the attempt counts
under, so the check and the count are one step: racers queue on the row, and exactly `limit` of them
are counted; the others see their key refused. An attempt counts under all of its keys or none.
Checking whether a key is at its limit is one read of the unique (key, minute) index.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.db.models import Exists, F
from django.utils import timezone

from .models import AttemptWindow

WINDOW = timedelta(minutes=1)
KEPT_FOR = timedelta(hours=1)  # past minutes are only kept to look into a burst afterwards
TABLE = AttemptWindow._meta.db_table


def window_start(now: datetime) -> datetime:
    return now.replace(second=0, microsecond=0)


def retry_after_seconds(now: datetime) -> int:
    """Whole seconds until the minute of `now` ends (at least 1): when a refused key may try again."""
    return max(1, int((window_start(now) + WINDOW - now).total_seconds() + 0.999))


@dataclass(frozen=True)
class Counted:
    refused: frozenset[str]  # keys already at their limit: the attempt was counted under none of its keys
    reached: frozenset[str]  # keys this attempt brought to their limit


def attempt_count(*, limits: Mapping[str, int], now: datetime | None = None) -> Counted:
    """Count one attempt under each key of `limits` (key → that key's limit per minute), all or none."""
    now = now or timezone.now()
    keys = sorted(limits)  # one lock order for every statement, so racers over several keys never deadlock
    start = connection.ops.adapt_datetimefield_value(window_start(now))
    sql = f"""INSERT INTO {TABLE} ("key", window_start, attempts, attempt_limit)
VALUES {", ".join(["(%s, %s, 1, %s)"] * len(keys))}
ON CONFLICT ("key", window_start) DO UPDATE
SET attempts = {TABLE}.attempts + 1, attempt_limit = excluded.attempt_limit
WHERE {TABLE}.attempts < excluded.attempt_limit
RETURNING "key", attempts"""
    params = [value for key in keys for value in (key, start, limits[key])]
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            counted = dict(cursor.fetchall())
        refused = frozenset(keys) - counted.keys()
        if refused:
            transaction.set_rollback(True)  # counted under none of its keys
            return Counted(refused=refused, reached=frozenset())
    if any(attempts == 1 for attempts in counted.values()):  # a key's first attempt this minute
        AttemptWindow.objects.filter(window_start__lt=window_start(now) - KEPT_FOR).delete()
    return Counted(refused=frozenset(), reached=frozenset(k for k, n in counted.items() if n >= limits[k]))


def _at_limit(keys: Iterable[str], now: datetime | None):
    rows = AttemptWindow.objects.filter(key__in=list(keys), window_start=window_start(now or timezone.now()))
    return rows.filter(attempts__gte=F("attempt_limit"))


def keys_at_limit(keys: Iterable[str], *, now: datetime | None = None) -> frozenset[str]:
    """Which of these keys have reached their limit this minute (one indexed read, written out: it runs on
    every request of a cached client)."""
    keys = list(keys)
    start = connection.ops.adapt_datetimefield_value(window_start(now or timezone.now()))
    sql = f"""SELECT "key" FROM {TABLE}
WHERE window_start = %s AND "key" IN ({", ".join(["%s"] * len(keys))}) AND attempts >= attempt_limit"""
    with connection.cursor() as cursor:
        cursor.execute(sql, [start, *keys])
        return frozenset(row[0] for row in cursor.fetchall())


def any_at_limit(keys: Iterable[str], *, now: datetime | None = None) -> Exists:
    """Whether any of these keys has reached its limit this minute, as an expression to annotate a query with."""
    return Exists(_at_limit(keys, now))


def at_limit_sql(keys_sql: str) -> str:
    """A subselect counting the keys (an SQL list, `%s` placeholders or expressions) at their limit in the
    minute given as the first parameter: for a hot statement that checks limits alongside its own reads."""
    return f"""(SELECT count(*) FROM {TABLE} w
        WHERE w.window_start = %s AND w."key" IN ({keys_sql}) AND w.attempts >= w.attempt_limit)"""
