from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded

from config.actors import Actor
from config.tasks import JOB_TASK_OPTIONS, TRANSIENT_ERRORS, retry_backoff


@shared_task(acks_late=True, autoretry_for=(ConnectionError,), retry_backoff=True, max_retries=5)
def series_limit_notify_task(*, series_id: int, remaining: int) -> None:
    from coupons.notify.limits import series_limit_notify

    series_limit_notify(series_id=series_id, remaining=remaining)


@shared_task(**JOB_TASK_OPTIONS)
def upload_process_task(*, upload_id: int) -> None:
    """Process (or resume) an upload. Each chunk commits with the counters, so a rerun goes on after the last one."""
    from coupons.issuance.uploads import upload_process

    try:
        upload_process(upload_id=upload_id)
    except SoftTimeLimitExceeded:
        # Out of time but resumable: a fresh task goes on after the last committed chunk.
        upload_process_task.apply_async(kwargs={"upload_id": upload_id})


@shared_task(bind=True, max_retries=5, **JOB_TASK_OPTIONS)
def bulk_issue_run_task(self, *, job_id: int) -> None:
    """Run or resume a bulk issuance job. Each chunk commits whole, so a retry goes on after the last one."""
    from coupons.issuance.bulk import bulk_issue_run
    from coupons.issuance.job_status import bulk_issue_job_fail

    try:
        bulk_issue_run(job_id=job_id, actor=Actor.task("bulk_issue_run_task"))
    except SoftTimeLimitExceeded:
        # Out of time but resumable: a fresh task goes on after the last committed chunk.
        bulk_issue_run_task.apply_async(kwargs={"job_id": job_id})
    except TRANSIENT_ERRORS as exc:
        if self.request.retries >= self.max_retries:
            bulk_issue_job_fail(job_id=job_id, error=f"Gave up after {self.max_retries} retries: {exc}")
            raise
        raise self.retry(exc=exc, countdown=retry_backoff(self.request.retries)) from exc
    except Exception as exc:
        # Not one that passes on its own: the job says so in the admin instead of staying "running".
        bulk_issue_job_fail(job_id=job_id, error=f"{type(exc).__name__}: {exc}")
        raise


@shared_task(**JOB_TASK_OPTIONS)
def series_revoke_run_task(*, job_id: int) -> None:
    """Run or resume a revoke job. Each batch commits with the job's counters, so a rerun goes on after the last."""
    from coupons.lifecycle.revoke import series_revoke_run

    try:
        series_revoke_run(job_id=job_id)
    except SoftTimeLimitExceeded:
        series_revoke_run_task.apply_async(kwargs={"job_id": job_id})
