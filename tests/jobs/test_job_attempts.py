"""Job tasks hand their message back when their worker is lost, bounded by the attempt count on the job row."""

import pytest
from celery.exceptions import SoftTimeLimitExceeded
from django.core.checks import run_checks
from django.core.files.base import ContentFile

from config.actors import Actor
from config.celery import app as celery_app
from config.jobs import attempts_exhausted_message
from config.tasks import visibility_timeout_check
from coupons import tasks as coupon_tasks
from coupons.issuance.bulk import bulk_issue_run
from coupons.issuance.uploads import upload_create, upload_process
from coupons.models import Coupon, Upload
from exports import services as export_services
from exports import tasks as export_tasks
from exports.models import ExportRun
from tests.coupons.factories import BulkIssueJobFactory, CouponSeriesFactory, UploadFactory
from tests.exports.factories import ExportDefinitionFactory, ExportRunFactory
from tests.members.factories import MemberFactory

pytestmark = pytest.mark.django_db
ACTOR = Actor.system("test")


@pytest.fixture(autouse=True)
def job_settings(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.JOBS_MAX_ATTEMPTS = 2
    return settings


def bulk_job(**fields):
    """A job over three members in chunks of two."""
    return BulkIssueJobFactory(segment__member_count=3, chunk_size=2, **fields)


def members_upload():
    member = MemberFactory()
    file = ContentFile(f"user_id\n{member.user_id}\n".encode(), name="m.csv")
    return upload_create(series=CouponSeriesFactory(), kind="members", file=file, actor=ACTOR)


def test_job_tasks_reject_their_message_when_the_worker_is_lost_and_other_tasks_do_not():
    celery_app.loader.import_default_modules()
    jobs = ["coupons.tasks.bulk_issue_run_task", "coupons.tasks.upload_process_task",
            "exports.tasks.export_run_execute_task"]  # fmt: skip
    for name in jobs:
        task = celery_app.tasks[name]
        assert (task.acks_late, task.reject_on_worker_lost) == (True, True), name
    assert not celery_app.tasks["jobs.tasks.expire_due_task"].reject_on_worker_lost
    assert celery_app.conf.task_reject_on_worker_lost is False


def test_bulk_issue_counts_each_start_and_fails_the_job_once_its_attempts_are_spent():
    job = bulk_job(status="queued")
    bulk_issue_run(job_id=job.pk, actor=ACTOR, max_chunks=1)  # attempt 1: the worker dies after a chunk
    bulk_issue_run(job_id=job.pk, actor=ACTOR, max_chunks=0)  # attempt 2: dies before the next
    job.refresh_from_db()
    assert (job.status, job.attempts, job.issued) == ("running", 2, 2)
    assert job.heartbeat_at is not None

    job = bulk_issue_run(job_id=job.pk, actor=ACTOR)  # delivered a third time: stop

    assert (job.status, job.attempts, job.error) == ("failed", 2, attempts_exhausted_message(2))
    assert job.finished_at is not None
    assert Coupon.objects.filter(series=job.series).count() == 2


def test_bulk_issue_on_a_finished_job_changes_nothing():
    job = bulk_job(status="succeeded", attempts=1)
    assert bulk_issue_run(job_id=job.pk, actor=ACTOR).attempts == 1


def test_upload_counts_each_start_and_fails_once_its_attempts_are_spent():
    upload = members_upload()
    Upload.objects.filter(pk=upload.pk).update(status="running", attempts=2)

    upload = upload_process(upload_id=upload.pk)

    assert (upload.status, upload.attempts, upload.error) == ("failed", 2, attempts_exhausted_message(2))
    assert upload.processed_rows == 0 and not Coupon.objects.exists()


def test_upload_resumed_discards_the_report_a_killed_attempt_left_half_written():
    upload = members_upload()
    upload.error_report.save(f"upload-{upload.pk}-issues.csv", ContentFile(b"row,ident"), save=False)
    partial = upload.error_report.name
    Upload.objects.filter(pk=upload.pk).update(status="running", attempts=1, error_report=partial)

    upload = upload_process(upload_id=upload.pk)

    assert (upload.status, upload.attempts, upload.succeeded) == ("succeeded", 2, 1)
    assert not upload.error_report and not upload.error_report.storage.exists(partial)


def test_export_counts_each_start_and_fails_once_its_attempts_are_spent():
    MemberFactory()
    run = export_services.export_run_create(definition=ExportDefinitionFactory(), actor=ACTOR)
    ExportRun.objects.filter(pk=run.pk).update(status="running", attempts=2)

    run = export_services.export_run_execute(run_id=run.pk, actor=ACTOR)

    assert (run.status, run.attempts, run.error) == ("failed", 2, attempts_exhausted_message(2))
    assert not run.file
    assert run.events.last().reason == attempts_exhausted_message(2)


def test_export_claim_sets_the_heartbeat():
    MemberFactory()
    run = export_services.export_run_create(definition=ExportDefinitionFactory(), actor=ACTOR)
    run = export_services.export_run_execute(run_id=run.pk, actor=ACTOR)
    assert run.status == "succeeded" and run.heartbeat_at is not None


def test_bulk_and_upload_tasks_out_of_time_hand_over_to_a_fresh_task(monkeypatch):
    job, upload = bulk_job(status="running"), members_upload()
    queued = []
    for task in (coupon_tasks.bulk_issue_run_task, coupon_tasks.upload_process_task):
        monkeypatch.setattr(task, "apply_async", lambda kwargs, task=task: queued.append((task.name, kwargs)))

    def out_of_time(**kwargs):
        raise SoftTimeLimitExceeded()

    monkeypatch.setattr("coupons.issuance.bulk.bulk_issue_run", out_of_time)
    monkeypatch.setattr("coupons.issuance.uploads.upload_process", out_of_time)
    coupon_tasks.bulk_issue_run_task.run(job_id=job.pk)
    coupon_tasks.upload_process_task.run(upload_id=upload.pk)

    assert queued == [
        ("coupons.tasks.bulk_issue_run_task", {"job_id": job.pk}),
        ("coupons.tasks.upload_process_task", {"upload_id": upload.pk}),
    ]
    job.refresh_from_db()
    assert (job.status, job.error) == ("running", "")  # resumable: not failed


def test_visibility_timeout_check_passes_with_the_defaults():
    assert [m for m in run_checks() if m.id == "config.W001"] == []


def test_visibility_timeout_check_warns_when_a_task_outlasts_it(monkeypatch):
    monkeypatch.setitem(celery_app.conf, "broker_transport_options", {"visibility_timeout": 3600})

    warnings = visibility_timeout_check()

    assert [w.id for w in warnings] == ["config.W001"]
    assert export_tasks.export_run_execute_task.name in warnings[0].msg and "3600 s" in warnings[0].msg


def test_admin_lists_and_pages_say_why_a_job_failed(admin_client):
    from django.urls import reverse

    reason = attempts_exhausted_message(2)
    job = BulkIssueJobFactory(failed=True, attempts=2, error=reason)
    upload = UploadFactory(failed=True, attempts=2, error=reason)
    run = ExportRunFactory(failed=True, attempts=2, error=reason)

    for model, pk in (("coupons_bulkissuejob", job.pk), ("coupons_upload", upload.pk), ("exports_exportrun", run.pk)):
        listing = admin_client.get(reverse(f"admin:{model}_changelist")).content.decode()
        assert "Why it failed" in listing and "Stopped after 2 attempts" in listing, model
        page = admin_client.get(reverse(f"admin:{model}_change", args=[pk])).content.decode()
        assert "Stopped after 2 attempts" in page and "Heartbeat at" in page, model
