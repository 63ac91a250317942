"""Thin Celery adapters over the export services. Tasks take ids; the services are idempotent."""

import logging

from celery import shared_task

from config.actors import Actor
from config.errors import DomainError
from config.tasks import JOB_TASK_OPTIONS, TRANSIENT_ERRORS, retry_backoff
from exports import services
from exports.dashboard import services as dashboard_services
from exports.models import ExportDefinition
from exports.reports.liability_closes import liability_days_close

logger = logging.getLogger(__name__)


@shared_task(bind=True, max_retries=5, soft_time_limit=55 * 60, time_limit=60 * 60, **JOB_TASK_OPTIONS)
def export_run_execute_task(self, *, run_id: int) -> dict:
    actor = Actor.task("export_run_execute_task")
    try:
        run = services.export_run_execute(run_id=run_id, actor=actor)
    except TRANSIENT_ERRORS as exc:
        if self.request.retries >= self.max_retries:
            services.export_run_fail(run_id=run_id, actor=actor, error=f"Gave up after retries: {exc}")
            raise
        raise self.retry(exc=exc, countdown=retry_backoff(self.request.retries)) from exc
    except DomainError as exc:
        logger.warning("Export run %s not executed: %s", run_id, exc)
        return {"run_id": run_id, "error": exc.code}
    return {"run_id": run.pk, "status": run.status, "rows": run.rows}


@shared_task(bind=True, acks_late=True, max_retries=5)
def export_definition_run_scheduled_task(self, *, definition_id: int) -> dict:
    """What django-celery-beat calls on a definition's schedule: start a run (executed by its own task)."""
    definition = ExportDefinition.objects.filter(pk=definition_id).first()
    if definition is None:
        return {"definition_id": definition_id, "error": "not_found"}
    try:
        run = services.export_run_start(definition=definition, actor=Actor.task("beat"))
    except TRANSIENT_ERRORS as exc:
        raise self.retry(exc=exc, countdown=retry_backoff(self.request.retries)) from exc
    except DomainError as exc:
        return {"definition_id": definition_id, "error": exc.code}
    return {"definition_id": definition_id, "run_id": run.pk}


@shared_task(bind=True, max_retries=5, soft_time_limit=10 * 60, time_limit=15 * 60, acks_late=True)
def dashboard_refresh_task(self, *, days_back: int = 1) -> dict:
    """Rebuild the dashboard's figures of today and the `days_back` days before it (90 for a backfill)."""
    try:
        written = dashboard_services.dashboard_recent_refresh(days_back=days_back)
    except TRANSIENT_ERRORS as exc:
        raise self.retry(exc=exc, countdown=retry_backoff(self.request.retries)) from exc
    return {"days_back": days_back, "figures": written}


@shared_task(bind=True, max_retries=5, soft_time_limit=30 * 60, time_limit=35 * 60, acks_late=True)
def liability_days_close_task(self) -> dict:
    """Close the liability of every settled day not closed yet (the first close reads every coupon once)."""
    try:
        closed = liability_days_close(actor=Actor.task("liability_days_close_task"))
    except TRANSIENT_ERRORS as exc:
        raise self.retry(exc=exc, countdown=retry_backoff(self.request.retries)) from exc
    return {"closed": closed}
