import json
from io import StringIO

import pytest
from django.core.management import call_command
from django_celery_beat.models import PeriodicTask

from config.celery import app as celery_app
from jobs.default_schedules import DEFAULT_SCHEDULES, default_schedules_ensure

pytestmark = pytest.mark.django_db


def test_default_schedules_exist_after_migrate():
    tasks = {task.name: task for task in PeriodicTask.objects.filter(name__in=[s.name for s in DEFAULT_SCHEDULES])}

    expire = tasks["Expire due offer responses and coupons"]
    assert (expire.task, expire.interval.every, expire.interval.period) == (
        "jobs.tasks.expire_due_task",
        15,
        "minutes",
    )
    remind = tasks["Send coupon expiry reminders"]
    assert (remind.task, remind.interval.every) == ("jobs.tasks.send_reminders_task", 5)
    purge = tasks["Purge expired Idempotency-Key records"]
    assert purge.task == "jobs.tasks.idempotency_records_purge_task"
    assert (purge.crontab.minute, purge.crontab.hour) == ("17", "3")
    resume = tasks["Resume jobs whose worker died"]
    assert (resume.task, resume.interval.every, resume.interval.period) == (
        "jobs.tasks.jobs_resume_stale_task",
        2,
        "minutes",
    )
    pump = tasks["Send webhook deliveries that are due"]
    assert (pump.task, pump.interval.every, pump.interval.period) == ("webhooks.tasks.deliveries_pump_task", 1,
                                                                      "minutes")  # fmt: skip
    webhook_purge = tasks["Purge old webhook events"]
    assert (webhook_purge.task, webhook_purge.crontab.minute) == ("webhooks.tasks.webhook_events_purge_task", "41")
    assert all(task.enabled and json.loads(task.kwargs) == {} for task in tasks.values())


def test_default_schedules_name_registered_tasks():
    celery_app.loader.import_default_modules()
    assert {schedule.task for schedule in DEFAULT_SCHEDULES} <= set(celery_app.tasks)


def test_default_schedules_ensure_keeps_admin_edits_and_recreates_deleted_rows():
    PeriodicTask.objects.filter(name="Send coupon expiry reminders").update(enabled=False)
    PeriodicTask.objects.filter(name="Purge expired Idempotency-Key records").delete()

    created = default_schedules_ensure()

    assert created == ["Purge expired Idempotency-Key records"]
    assert PeriodicTask.objects.get(name="Send coupon expiry reminders").enabled is False
    assert PeriodicTask.objects.filter(name__in=[s.name for s in DEFAULT_SCHEDULES]).count() == len(DEFAULT_SCHEDULES)


def test_setup_schedules_command_prints_each_schedule():
    PeriodicTask.objects.filter(name="Expire due offer responses and coupons").delete()
    out = StringIO()

    call_command("setup_schedules", stdout=out)

    assert out.getvalue().splitlines() == [
        "Expire due offer responses and coupons (jobs.tasks.expire_due_task): created",
        "Send coupon expiry reminders (jobs.tasks.send_reminders_task): already present",
        "Purge expired Idempotency-Key records (jobs.tasks.idempotency_records_purge_task): already present",
        "Resume jobs whose worker died (jobs.tasks.jobs_resume_stale_task): already present",
        "Send webhook deliveries that are due (webhooks.tasks.deliveries_pump_task): already present",
        "Purge old webhook events (webhooks.tasks.webhook_events_purge_task): already present",
        "Release lapsed checkout holds (till.tasks.checkouts_expire_due_task): already present",
        "Refresh the dashboard figures (exports.tasks.dashboard_refresh_task): already present",
        "Close the liability of settled days (exports.tasks.liability_days_close_task): already present",
    ]


def test_the_jobs_migration_points_schedules_made_before_it_at_the_jobs_tasks():
    import importlib

    from django.apps import apps

    migration = importlib.import_module("jobs.migrations.0001_default_schedules")
    PeriodicTask.objects.filter(task="jobs.tasks.send_reminders_task").update(task="exports.tasks.send_reminders_task")
    PeriodicTask.objects.filter(task="jobs.tasks.expire_due_task").update(
        task="exports.tasks.expire_due_task", enabled=False
    )

    migration.point_schedules_at_jobs(apps, None)

    remind = PeriodicTask.objects.get(name="Send coupon expiry reminders")
    expire = PeriodicTask.objects.get(name="Expire due offer responses and coupons")
    assert (remind.task, expire.task, expire.enabled) == (
        "jobs.tasks.send_reminders_task",
        "jobs.tasks.expire_due_task",
        False,
    )
    assert (
        not PeriodicTask.objects.filter(task__startswith="exports.tasks.")
        .exclude(
            task__in=[
                "exports.tasks.export_definition_run_scheduled_task",
                "exports.tasks.dashboard_refresh_task",
                "exports.tasks.liability_days_close_task",
            ]
        )
        .exists()
    )


def test_the_checkout_holds_schedule_runs_every_minute():
    task = PeriodicTask.objects.select_related("interval").get(name="Release lapsed checkout holds")
    assert task.task == "till.tasks.checkouts_expire_due_task"
    assert (task.interval.every, task.interval.period) == (1, "minutes")
