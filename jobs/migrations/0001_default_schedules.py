from django.db import migrations

from jobs.default_schedules import default_schedules_migrate

# Scheduled tasks that lived in exports.tasks before the jobs app owned them.
MOVED_TASKS = ("expire_due_task", "send_reminders_task", "idempotency_records_purge_task", "jobs_resume_stale_task")


def point_schedules_at_jobs(apps, schema_editor):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    for name in MOVED_TASKS:
        PeriodicTask.objects.filter(task=f"exports.tasks.{name}").update(task=f"jobs.tasks.{name}")


def point_schedules_at_exports(apps, schema_editor):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    for name in MOVED_TASKS:
        PeriodicTask.objects.filter(task=f"jobs.tasks.{name}").update(task=f"exports.tasks.{name}")


class Migration(migrations.Migration):
    """Takes over the default beat schedules: rows made by exports 0002/0004 are pointed at jobs.tasks, and the
    ones missing are created (edited rows stay as the admin left them)."""

    initial = True

    dependencies = [
        ("exports", "0004_resume_stale_jobs_schedule"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [
        migrations.RunPython(point_schedules_at_jobs, point_schedules_at_exports),
        migrations.RunPython(default_schedules_migrate, migrations.RunPython.noop),
    ]
