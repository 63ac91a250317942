"""The beat schedules every installation starts with; rows in django-celery-beat, editable in the admin.

`default_schedules_ensure()` creates the ones that are missing and leaves existing rows alone, so an
interval or enabled flag changed in the admin survives migrations and reruns. It runs from the data
migration (jobs 0001; a later migration for a schedule added since) and from `manage.py setup_schedules`.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class DefaultSchedule:
    name: str
    task: str
    description: str
    every_minutes: int | None = None
    crontab: dict | None = None  # minute, hour, …: a daily job at a quiet hour


DEFAULT_SCHEDULES = (
    DefaultSchedule(
        name="Expire due offer responses and coupons",
        task="jobs.tasks.expire_due_task",
        description="Moves offer responses and coupons past their expiry to expired (manage.py expire_due).",
        every_minutes=15,
    ),
    DefaultSchedule(
        name="Send coupon expiry reminders",
        task="jobs.tasks.send_reminders_task",
        description="Sends the coupon expiry reminders that are due, each at most once (manage.py send_reminders).",
        every_minutes=5,
    ),
    DefaultSchedule(
        name="Purge expired Idempotency-Key records",
        task="jobs.tasks.idempotency_records_purge_task",
        description="Deletes stored Idempotency-Key answers older than IDEMPOTENCY_KEY_TTL_HOURS.",
        crontab={"minute": "17", "hour": "3"},
    ),
    DefaultSchedule(
        name="Resume jobs whose worker died",
        task="jobs.tasks.jobs_resume_stale_task",
        description="Queues again the bulk issuance jobs, uploads and export runs whose heartbeat is older than "
        "JOBS_STALE_AFTER_SECONDS, and fails those started JOBS_MAX_ATTEMPTS times (manage.py resume_stale_jobs).",
        every_minutes=2,
    ),
    DefaultSchedule(
        name="Send webhook deliveries that are due",
        task="webhooks.tasks.deliveries_pump_task",
        description="Dispatches webhook events no wake-up reached and sends the retries that are due, and the "
        "deliveries whose worker died.",
        every_minutes=1,
    ),
    DefaultSchedule(
        name="Purge old webhook events",
        task="webhooks.tasks.webhook_events_purge_task",
        description="Deletes webhook events older than WEBHOOK_EVENT_RETENTION_DAYS, with their deliveries.",
        crontab={"minute": "41", "hour": "3"},
    ),
    DefaultSchedule(
        name="Release lapsed checkout holds",
        task="till.tasks.checkouts_expire_due_task",
        description="Expires the till checkouts past their hold time (CHECKOUT_HOLD_SECONDS) and frees the coupons "
        "and offer responses they held.",
        every_minutes=1,
    ),
    DefaultSchedule(
        name="Refresh the dashboard figures",
        task="exports.tasks.dashboard_refresh_task",
        description="Rebuilds the admin dashboard's daily figures of today and yesterday (issuance, redemptions, "
        "responses, points, coupons expiring soon, liability).",
        every_minutes=10,
    ),
    DefaultSchedule(
        name="Close the liability of settled days",
        task="exports.tasks.liability_days_close_task",
        description="Keeps the liability report's day closes: each day once the offline window has passed after it, "
        "so the report reads what changed since the last close instead of every coupon.",
        crontab={"minute": "17"},
    ),
)


def default_schedules_ensure(*, models=None) -> list[str]:
    """Create the missing default PeriodicTasks; returns the names created. `models` lets a migration pass
    its historical models (IntervalSchedule, CrontabSchedule, PeriodicTask)."""
    if models is None:
        from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask
    else:
        IntervalSchedule, CrontabSchedule, PeriodicTask = models
    from django.conf import settings

    created = []
    for schedule in DEFAULT_SCHEDULES:
        if PeriodicTask.objects.filter(name=schedule.name).exists():
            continue
        values = {"name": schedule.name, "task": schedule.task, "description": schedule.description,
                  "kwargs": "{}", "enabled": True}  # fmt: skip
        if schedule.every_minutes:
            values["interval"], _ = IntervalSchedule.objects.get_or_create(every=schedule.every_minutes,
                                                                           period="minutes")  # fmt: skip
        else:
            fields = {"minute": "*", "hour": "*", "day_of_week": "*", "day_of_month": "*", "month_of_year": "*"}
            fields.update(schedule.crontab)
            values["crontab"], _ = CrontabSchedule.objects.get_or_create(timezone=settings.TIME_ZONE, **fields)
        PeriodicTask.objects.create(**values)
        created.append(schedule.name)
    return created


def default_schedules_migrate(apps, schema_editor) -> None:
    """RunPython body for the data migrations that add default schedules (with the historical models)."""
    default_schedules_ensure(
        models=(
            apps.get_model("django_celery_beat", "IntervalSchedule"),
            apps.get_model("django_celery_beat", "CrontabSchedule"),
            apps.get_model("django_celery_beat", "PeriodicTask"),
        )
    )
