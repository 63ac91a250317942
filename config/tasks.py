"""Queueing Celery tasks safely from services."""

from django.db import InterfaceError, OperationalError, transaction
from kombu.exceptions import OperationalError as BrokerError

# Only failures that may pass on their own are retried; a DomainError is final.
TRANSIENT_ERRORS = (OperationalError, InterfaceError, BrokerError)
# Retries wait at most this long: a countdown is an ETA message, and on Redis an ETA beyond the
# visibility timeout gets the message delivered again (and again).
MAX_RETRY_DELAY = 300


def retry_backoff(retries: int) -> int:
    """Seconds before retry number `retries` + 1: doubling from 10 s, capped at MAX_RETRY_DELAY."""
    return min(MAX_RETRY_DELAY, 10 * 2**retries)


def enqueue_on_commit(task, *args, **kwargs) -> None:
    """Queue `task` once the surrounding transaction commits (at once outside a transaction).

    A task queued inside an open transaction can run before the rows it needs are committed, or
    run for work that is then rolled back.
    """
    transaction.on_commit(lambda: task.apply_async(args=args, kwargs=kwargs))
