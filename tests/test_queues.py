"""Celery queues per kind of work: each task's queue, and a worker that consumes every queue unless told one."""

import os
import subprocess
import sys
from pathlib import Path

from django.conf import settings

from config.celery import app

ROOT = Path(__file__).resolve().parents[1]

EXPECTED_QUEUES = {
    "coupons.tasks.series_limit_notify_task": "till",
    "jobs.tasks.send_reminders_task": "till",
    "till.tasks.checkouts_expire_due_task": "till",
    "coupons.tasks.bulk_issue_run_task": "bulk",
    "coupons.tasks.upload_process_task": "bulk",
    "coupons.tasks.series_revoke_run_task": "bulk",
    "jobs.tasks.expire_due_task": "bulk",
    "members.tasks.points_adjust_task": "bulk",
    "till.tasks.offline_batch_judge_task": "bulk",
    "jobs.tasks.admin_import_run_task": "bulk",
    "exports.tasks.export_run_execute_task": "exports",
    "exports.tasks.export_definition_run_scheduled_task": "exports",
    "exports.tasks.dashboard_refresh_task": "exports",
    "exports.tasks.liability_days_close_task": "exports",
    "webhooks.tasks.events_dispatch_task": "webhooks",
    "webhooks.tasks.endpoint_deliver_task": "webhooks",
    "webhooks.tasks.deliveries_pump_task": "webhooks",
    "webhooks.tasks.webhook_events_purge_task": "webhooks",
    # Housekeeping, on the default queue.
    "jobs.tasks.idempotency_records_purge_task": "celery",
    "jobs.tasks.jobs_resume_stale_task": "celery",
}


def project_tasks() -> list[str]:
    app.loader.import_default_modules()
    return sorted(name for name in app.tasks if not name.startswith("celery."))


def test_queues_every_task_is_sent_to_the_queue_of_its_kind():
    assert project_tasks() == sorted(EXPECTED_QUEUES), "a new task needs its queue here and in CELERY_WORK_QUEUES"
    router = app.amqp.Router()
    assert {name: router.route({}, name)["queue"].name for name in EXPECTED_QUEUES} == EXPECTED_QUEUES


def test_queues_a_worker_without_q_consumes_every_queue():
    # The declared queues (the app's live table also gains the queues tests send to on the fly).
    declared = {queue.name for queue in app.conf.task_queues}
    assert declared == {"celery", "till", "bulk", "exports", "webhooks"}
    assert declared <= set(app.amqp.queues)
    assert settings.CELERY_TASK_DEFAULT_QUEUE == "celery"


def test_queues_can_be_turned_off_for_a_one_queue_installation():
    env = {**os.environ, "CELERY_QUEUES_BY_KIND": "false", "DJANGO_SETTINGS_MODULE": "config.settings.development"}
    code = ("from django.conf import settings\n"
            "print(settings.CELERY_TASK_ROUTES, [queue.name for queue in settings.CELERY_TASK_QUEUES])")  # fmt: skip
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "{} ['celery']"
