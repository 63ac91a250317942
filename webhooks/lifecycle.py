"""A delivery's status: its transition table and its one writer (one row, and a batch of answers).

pending → succeeded (a 2xx answer) or failed (its tries ran out); a failed or delivered one may be sent again
(pending) by a marketer's retry.
"""

from django.db import connection
from django.utils import timezone

from config.status import status_swap

from .exceptions import WebhookDeliveryError
from .models import Delivery

Status = Delivery.Status

DELIVERY_TRANSITIONS: dict[str, frozenset[str]] = {
    Status.PENDING: frozenset({Status.PENDING, Status.SUCCEEDED, Status.FAILED}),
    Status.SUCCEEDED: frozenset({Status.PENDING}),
    Status.FAILED: frozenset({Status.PENDING}),
}


def delivery_transition_check(old: str, to: str) -> None:
    if to not in DELIVERY_TRANSITIONS.get(old, ()):
        raise WebhookDeliveryError(f"A delivery cannot go from {old} to {to}.", reasons=[old])


def delivery_requeue(*, delivery: Delivery) -> None:
    """Send again at once, with a fresh set of tries (compare-and-swap from the status read)."""
    delivery_transition_check(delivery.status, Status.PENDING)
    now = timezone.now()
    changes = {"attempts": 0, "next_attempt_at": now, "claimed_until": None, "finished_at": None}
    if not status_swap(rows=Delivery.objects.filter(pk=delivery.pk), old=delivery.status, to=Status.PENDING,
                       changes=changes, event=None):  # fmt: skip
        raise WebhookDeliveryError("The delivery changed meanwhile; reload it.", reasons=["changed"])
    delivery.status = Status.PENDING
    for name, value in changes.items():
        setattr(delivery, name, value)


def deliveries_record(*, delivered: list[Delivery], retrying: list[Delivery], failed: list[Delivery]) -> None:
    """Write a batch's outcomes: the caller has set each delivery's answer fields (and the retrying ones'
    `next_attempt_at`); every delivery of the batch was claimed, pending, by the caller. One statement run for
    each row in one call (psycopg pipelines them), not the ORM's bulk_update, whose CASE per field and row costs
    more than the POSTs."""
    now = timezone.now()
    adapt = connection.ops.adapt_datetimefield_value
    rows = []
    for to, batch in ((Status.SUCCEEDED, delivered), (Status.PENDING, retrying), (Status.FAILED, failed)):
        for delivery in batch:
            delivery_transition_check(Status.PENDING, to)
            delivery.status = to
            delivery.claimed_until = None
            delivery.finished_at = None if to == Status.PENDING else now
            rows.append([to, delivery.response_code, delivery.duration_ms, delivery.error,
                         adapt(delivery.finished_at), adapt(delivery.next_attempt_at), delivery.pk])  # fmt: skip
    if rows:
        with connection.cursor() as cursor:
            cursor.executemany(_RECORD_SQL, rows)


_RECORD_SQL = f"""UPDATE {Delivery._meta.db_table} SET status = %s, response_code = %s, duration_ms = %s, error = %s,
    claimed_until = NULL, finished_at = %s, next_attempt_at = %s WHERE id = %s"""


def deliveries_claim(*, ids: list[int], until) -> list[int]:
    """Take the pending, unclaimed deliveries of `ids` for one send (one compare-and-swap UPDATE on the claim),
    counting the attempt; returns those taken. A claim that outlived its worker (killed mid-send) is free again."""
    if not ids:
        return []
    table = Delivery._meta.db_table
    marks = ", ".join(["%s"] * len(ids))
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET claimed_until = %s, attempts = attempts + 1 WHERE id IN ({marks}) "
            "AND status = %s AND (claimed_until IS NULL OR claimed_until < %s) RETURNING id",
            [connection.ops.adapt_datetimefield_value(until), *ids, Status.PENDING, now],
        )
        return sorted(pk for (pk,) in cursor.fetchall())
