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


# Long jobs (bulk issuance, uploads, export runs): a pool child killed under them (OOM killer, hard time
# limit) hands the message back instead of acknowledging it. Each such task counts its starts on the job
# row and fails the job after JOBS_MAX_ATTEMPTS, so a job that kills its worker every time is not
# redelivered forever.
JOB_TASK_OPTIONS = {"acks_late": True, "reject_on_worker_lost": True}


def visibility_timeout_check(app_configs=None, **kwargs):
    """Warn when a task may outlast the Redis visibility timeout: it would then be delivered twice."""
    from django.core.checks import Warning
    from django.utils.module_loading import autodiscover_modules

    from config.celery import app

    timeout = (app.conf.broker_transport_options or {}).get("visibility_timeout", 3600)
    longest = [(MAX_RETRY_DELAY, "the longest retry countdown (config.tasks.MAX_RETRY_DELAY)")]
    autodiscover_modules("tasks")  # each app's tasks.py, as the worker loads them
    for name, task in sorted(app.tasks.items()):
        if not name.startswith("celery."):
            limit = task.time_limit or app.conf.task_time_limit
            if limit:
                longest.append((limit, f"the hard time limit of {name}"))
    seconds, what = max(longest)
    if seconds < timeout:
        return []
    return [
        Warning(
            f"CELERY_VISIBILITY_TIMEOUT ({timeout} s) does not outlast {what} ({seconds} s).",
            hint="Raise CELERY_VISIBILITY_TIMEOUT above it, or Redis delivers a still-running task again.",
            id="config.W001",
        )
    ]
