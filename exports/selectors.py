from datetime import timedelta

from django.db.models import QuerySet

from config.progress import job_progress
from exports.models import ExportDefinition, ExportRun


def export_definition_list() -> QuerySet[ExportDefinition]:
    return ExportDefinition.objects.select_related("periodic_task", "periodic_task__crontab").order_by("id")


def export_run_list() -> QuerySet[ExportRun]:
    return ExportRun.objects.select_related("definition").order_by("-created_at", "-id")


def export_run_progress(run: ExportRun) -> dict:
    """The run's state for progress bars (the shape admin/includes/job_progress.html polls for)."""
    return job_progress(
        run,
        done=run.progress_done,
        total=run.progress_total,
        finished=run.is_finished,
        rows=run.rows,
        duration_seconds=run.duration.total_seconds() if isinstance(run.duration, timedelta) else None,
    )
