"""Celery tasks of the till: thin adapters over its services."""

from celery import shared_task

from config.actors import Actor
from config.tasks import JOB_TASK_OPTIONS, TRANSIENT_ERRORS, retry_backoff


@shared_task(bind=True, acks_late=True, max_retries=5, soft_time_limit=50, time_limit=55)
def checkouts_expire_due_task(self) -> int:
    """Expire the checkouts whose holds lapsed and release what they held; a rerun expires nothing twice."""
    from till.checkouts.services import checkouts_expire_due

    try:
        return checkouts_expire_due(actor=Actor.task("checkouts_expire_due_task"))
    except TRANSIENT_ERRORS as exc:
        raise self.retry(exc=exc, countdown=retry_backoff(self.request.retries)) from exc


@shared_task(bind=True, max_retries=5, soft_time_limit=1800, time_limit=1860, **JOB_TASK_OPTIONS)
def offline_batch_judge_task(self, batch_pk: int) -> int:
    """Judge an uploaded offline batch; a rerun (a retry, a redelivery) goes on from its first unjudged row."""
    from till.offline.uploads import offline_upload_judge

    try:
        return offline_upload_judge(batch_pk)
    except TRANSIENT_ERRORS as exc:
        raise self.retry(exc=exc, countdown=retry_backoff(self.request.retries)) from exc
