from celery import shared_task

from config.actors import Actor


@shared_task(acks_late=True, autoretry_for=(ConnectionError,), retry_backoff=True, max_retries=5)
def series_limit_notify_task(*, series_id: int, remaining: int) -> None:
    from .services import series_limit_notify

    series_limit_notify(series_id=series_id, remaining=remaining)


@shared_task(acks_late=True)
def upload_process_task(*, upload_id: int) -> None:
    from .uploads import upload_process

    upload_process(upload_id=upload_id)


@shared_task(acks_late=True)
def bulk_issue_run_task(*, job_id: int) -> None:
    from .bulk import bulk_issue_run

    bulk_issue_run(job_id=job_id, actor=Actor.task("bulk_issue_run_task"))


@shared_task(acks_late=True, soft_time_limit=20 * 60, time_limit=25 * 60)
def coupons_expire_due_task(*, batch_size: int = 20_000) -> int:
    """Expire issued coupons past their expiry; a rerun expires nothing twice."""
    from .expiry_sweep import coupons_expire_due

    return coupons_expire_due(actor=Actor.task("coupons_expire_due_task"), batch_size=batch_size)
