"""Keep each scheduled definition's django-celery-beat PeriodicTask in step with it."""

import json

from django.conf import settings
from django_celery_beat.models import CrontabSchedule, PeriodicTask

from exports.models import ExportDefinition
from exports.rules import CRON_FIELDS, parse_cron

SCHEDULED_TASK = "exports.tasks.export_definition_run_scheduled_task"


def periodic_task_name(definition: ExportDefinition) -> str:
    return f"Export definition {definition.pk}: {definition.name}"[:200]


def periodic_task_sync(*, definition: ExportDefinition) -> PeriodicTask | None:
    """Create, update or delete the definition's PeriodicTask; call inside the saving transaction."""
    if not definition.schedule:
        if definition.periodic_task_id:
            PeriodicTask.objects.filter(pk=definition.periodic_task_id).delete()
            definition.periodic_task = None
        return None
    fields = parse_cron(definition.schedule)
    crontab, _ = CrontabSchedule.objects.get_or_create(
        timezone=settings.TIME_ZONE, **{name: getattr(fields, name) for name in CRON_FIELDS}
    )
    values = {
        "name": periodic_task_name(definition),
        "task": SCHEDULED_TASK,
        "crontab": crontab,
        "interval": None,
        "kwargs": json.dumps({"definition_id": definition.pk}),
        "enabled": definition.active,
        "description": f"Runs export definition {definition.pk} on its schedule ({definition.schedule}).",
    }
    task = PeriodicTask.objects.filter(pk=definition.periodic_task_id).first() if definition.periodic_task_id else None
    if task is None:
        task = PeriodicTask.objects.create(**values)
    else:
        for name, value in values.items():
            setattr(task, name, value)
        task.save()  # PeriodicTask.save() tells beat that schedules changed
    definition.periodic_task = task
    return task


def periodic_task_delete(*, definition: ExportDefinition) -> None:
    if definition.periodic_task_id:
        PeriodicTask.objects.filter(pk=definition.periodic_task_id).delete()
