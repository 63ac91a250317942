"""Celery tasks that beat runs on the default schedules: thin adapters over the sweeps and services."""

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded

from config.actors import Actor
from config.tasks import JOB_TASK_OPTIONS, TRANSIENT_ERRORS, retry_backoff


@shared_task(bind=True, acks_late=True, max_retries=5, soft_time_limit=20 * 60, time_limit=25 * 60)
def expire_due_task(self) -> dict:
    """Expire offer responses and coupons past their expiry; a rerun expires nothing twice."""
    from jobs.sweeps import expire_due

    try:
        return expire_due(actor=Actor.task("expire_due_task"))
    except TRANSIENT_ERRORS as exc:
        raise self.retry(exc=exc, countdown=retry_backoff(self.request.retries)) from exc


@shared_task(bind=True, acks_late=True, max_retries=5, soft_time_limit=20 * 60, time_limit=25 * 60)
def send_reminders_task(self) -> dict:
    """Send due coupon expiry reminders; each (coupon, reminder) is claimed before sending, so at most once."""
    from coupons.notify.reminders import reminders_send_due

    try:
        return reminders_send_due(actor=Actor.task("send_reminders_task")).as_dict()
    except TRANSIENT_ERRORS as exc:
        raise self.retry(exc=exc, countdown=retry_backoff(self.request.retries)) from exc


@shared_task(bind=True, acks_late=True, max_retries=5)
def idempotency_records_purge_task(self) -> int:
    """Delete Idempotency-Key answers older than IDEMPOTENCY_KEY_TTL_HOURS."""
    from config.api.cleanup import idempotency_records_purge

    try:
        return idempotency_records_purge()
    except TRANSIENT_ERRORS as exc:
        raise self.retry(exc=exc, countdown=retry_backoff(self.request.retries)) from exc


@shared_task(bind=True, acks_late=True, max_retries=5, soft_time_limit=4 * 60, time_limit=5 * 60)
def jobs_resume_stale_task(self) -> dict:
    """Resume bulk issuance jobs, uploads and export runs whose worker died; fail those out of attempts."""
    from jobs.sweeps import jobs_resume_stale

    try:
        return jobs_resume_stale(actor=Actor.task("jobs_resume_stale_task"))
    except TRANSIENT_ERRORS as exc:
        raise self.retry(exc=exc, countdown=retry_backoff(self.request.retries)) from exc


@shared_task(**JOB_TASK_OPTIONS)
def admin_import_run_task(*, job_id: int) -> None:
    """Run or resume an admin import job (review or import); each chunk commits with its counters."""
    from jobs.import_status import import_job_fail
    from jobs.imports import admin_import_run

    try:
        admin_import_run(job_id=job_id)
    except SoftTimeLimitExceeded:
        # Out of time but resumable: a fresh task goes on after the last committed chunk.
        admin_import_run_task.apply_async(kwargs={"job_id": job_id})
    except TRANSIENT_ERRORS:
        raise  # the job stays running; the stale-job reaper hands it to a new worker
    except Exception as exc:
        # A resource that raises on a row it should have reported: the job says so instead of staying "running".
        import_job_fail(job_id=job_id, error=f"The import stopped unexpectedly ({type(exc).__name__}: {exc}).")
        raise
