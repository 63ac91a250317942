"""The coupon expiry sweep: issued coupons past `expires_at` become expired, in batched set-based updates.

One move (issued → expired) through the set-based writer of `coupons.lifecycle.status`, checked against
the transition table: on PostgreSQL its one-statement form, elsewhere `coupons_transition`. Each batch is
one transaction that locks at most `batch_size` rows (rows another writer holds are skipped: the next
sweep takes them), moves them and writes one CouponEvent per coupon.
A rerun finds nothing it already expired, so the sweep is idempotent.
"""

from datetime import datetime
from functools import partial

from django.conf import settings
from django.db import connection, transaction
from django.db.models.expressions import RawSQL
from django.utils import timezone

from config.actors import Actor
from config.parallel import on_connections
from coupons.lifecycle.status import coupons_move_statement, coupons_transition
from coupons.models import Coupon
from webhooks import events
from webhooks.outbox import events_kick
from webhooks.payloads import coupons_emit, coupons_event_cte

EXPIRY_REASON = "expired"
DEFAULT_BATCH_SIZE = 20_000

ISSUED = Coupon.Status.ISSUED
EXPIRED = Coupon.Status.EXPIRED

# PostgreSQL, one statement a batch: lock up to `limit` due coupons (skipping rows another writer holds;
# the partial index on issued coupons' expiry finds them), move them by primary key and write their
# events (the writer's move and events, `coupons_move_statement`). The picked ids stay on the server as
# one array (no round trip through Python, and a plain index scan on = ANY rather than a join), and each
# batch costs the same however many coupons earlier batches expired.
_PG_DUE_IDS = f"""id = ANY(ARRAY(
        SELECT id FROM {Coupon._meta.db_table}
        WHERE status = %s AND expires_at <= %s
        ORDER BY expires_at
        LIMIT %s
        FOR UPDATE SKIP LOCKED
    ))"""


def coupons_expire_due(
    *, actor: Actor, now: datetime | None = None, batch_size: int = DEFAULT_BATCH_SIZE, workers: int | None = None
) -> int:
    """Expire every issued coupon whose `expires_at` is at or before `now`; returns how many it expired.

    On PostgreSQL, `workers` connections (default settings.EXPIRY_SWEEP_WORKERS) sweep side by side: each
    batch locks its rows with SKIP LOCKED, so they never take the same coupon. Inside an open transaction
    (whose rows other connections cannot see) the sweep runs on the caller's connection alone.
    """
    now = now or timezone.now()
    workers = workers or settings.EXPIRY_SWEEP_WORKERS
    if workers <= 1 or connection.vendor != "postgresql" or connection.in_atomic_block:
        return _expire_all(actor=actor, now=now, batch_size=batch_size)
    return sum(on_connections(partial(_expire_all, actor=actor, now=now, batch_size=batch_size), workers=workers))


def _expire_all(*, actor: Actor, now: datetime, batch_size: int) -> int:
    expired = 0
    while moved := _expire_batch(actor=actor, now=now, batch_size=batch_size):
        expired += moved
    return expired


def _expire_batch(*, actor: Actor, now: datetime, batch_size: int) -> int:
    """Expire up to `batch_size` due coupons in one transaction (the partial index on issued coupons'
    expiry finds them; expired ones leave it); returns how many moved."""
    at = timezone.now()
    with transaction.atomic():
        if connection.vendor == "postgresql":
            move = coupons_move_statement(old=ISSUED, to=EXPIRED, where=_PG_DUE_IDS,
                                          where_params=[ISSUED, now, batch_size], actor=actor,
                                          reason=EXPIRY_REASON, at=at)  # fmt: skip
            event_sql, event_params = coupons_event_cte(
                name="webhook_events", type=events.COUPON_EXPIRED, at=at, status=EXPIRED,
                queryset=Coupon.objects.filter(pk__in=RawSQL("SELECT id FROM moved", [])))  # fmt: skip
            with connection.cursor() as cursor:
                cursor.execute(f"WITH {move.sql},\n{event_sql}\nSELECT count(*) FROM moved",
                               [*move.params, *event_params])  # fmt: skip
                expired = cursor.fetchone()[0]
            if expired:
                events_kick()
            return expired
        # Portable path (SQLite: transactions take the write lock up front, nobody else writes meanwhile).
        ids = list(
            Coupon.objects.filter(status=ISSUED, expires_at__lte=now)
            .order_by("expires_at", "pk")
            .values_list("pk", flat=True)[:batch_size]
        )
        if not ids:
            return 0
        expired = coupons_transition(ids=ids, from_status=ISSUED, to=EXPIRED, actor=actor, reason=EXPIRY_REASON, at=at)
        coupons_emit(
            type=events.COUPON_EXPIRED,
            queryset=Coupon.objects.filter(pk__in=ids, status=EXPIRED, last_status_change_on=at),
            at=at,
        )
        return expired
