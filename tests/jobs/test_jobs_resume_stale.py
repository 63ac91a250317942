"""The stale-job reaper: jobs left running by a dead worker are resumed exactly, or failed with the reason."""

import csv
import io
from datetime import timedelta
from io import StringIO

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.utils import timezone

from config.actors import Actor
from config.jobs import attempts_exhausted_message
from coupons.issuance.bulk import bulk_issue_run
from coupons.issuance.services import coupon_issue
from coupons.issuance.uploads import upload_create
from coupons.models import BulkIssueJob, Coupon, Upload
from exports import services as export_services
from exports.models import ExportRun
from jobs.sweeps import jobs_resume_stale
from tests.coupons.factories import BulkIssueJobFactory, CouponSeriesFactory
from tests.exports.factories import ExportDefinitionFactory
from tests.members.factories import MemberFactory

pytestmark = pytest.mark.django_db
ACTOR = Actor.system("test")
NOTHING = {"resumed": 0, "failed": 0}


@pytest.fixture(autouse=True)
def job_settings(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path)
    settings.JOBS_STALE_AFTER_SECONDS = 60
    settings.JOBS_MAX_ATTEMPTS = 3
    return settings


@pytest.fixture
def reap(django_capture_on_commit_callbacks):
    """Run the reaper; the tasks it queues run in-process, as a worker would run them."""

    def reap(now=None):
        with django_capture_on_commit_callbacks(execute=True):
            return jobs_resume_stale(actor=ACTOR, now=now)

    return reap


def long_ago():
    return timezone.now() - timedelta(minutes=5)


def interrupted_bulk_job(members=10, **fields):
    """A job whose worker died after its first chunk: running, one chunk committed, heartbeat stale."""
    series = CouponSeriesFactory(max_per_member=5)  # a member issued twice would not be refused
    job = BulkIssueJobFactory(series=series, segment__member_count=members, chunk_size=4)
    bulk_issue_run(job_id=job.pk, actor=ACTOR, max_chunks=1)
    BulkIssueJob.objects.filter(pk=job.pk).update(heartbeat_at=long_ago(), **fields)
    return job


def interrupted_upload(**fields):
    """A members upload whose worker died after its second row (both rows issued and counted)."""
    series = CouponSeriesFactory(max_per_member=5)
    members = [MemberFactory() for _ in range(4)]
    text = "user_id\n" + "".join(f"{m.user_id}\n" for m in members) + "ghost\n"
    upload = upload_create(series=series, kind="members", file=ContentFile(text.encode(), name="m.csv"), actor=ACTOR)
    for member in members[:2]:
        coupon_issue(series=series, member=member, actor=ACTOR)
    fields = {"attempts": 1, **fields}
    Upload.objects.filter(pk=upload.pk).update(status="running", total_rows=5, processed_rows=2, succeeded=2,
                                               heartbeat_at=long_ago(), **fields)  # fmt: skip
    return upload, members


def interrupted_export(tmp_path, rows=7, **fields):
    """An export run whose worker died half-way, its partial file left in the temporary directory."""
    for _ in range(rows):
        MemberFactory()
    definition = ExportDefinitionFactory(columns=["external_id"])
    run = export_services.export_run_create(definition=definition, actor=ACTOR)
    fields = {"attempts": 1, **fields}
    ExportRun.objects.filter(pk=run.pk).update(status="running", progress_done=3, heartbeat_at=long_ago(),
                                               **fields)  # fmt: skip
    partial = tmp_path / f"export-{run.pk}-killed.csv"
    partial.write_text("external_id\nM1\nM2\n")
    return run, partial


def test_jobs_resume_stale_resumes_a_bulk_job_after_its_last_chunk_and_issues_each_member_once(reap):
    job = interrupted_bulk_job()

    counts = reap()

    assert counts == {
        "bulk_issue_jobs": {"resumed": 1, "failed": 0},
        "uploads": NOTHING,
        "revoke_jobs": NOTHING,
        "export_runs": NOTHING,
        "import_jobs": NOTHING,
    }
    job.refresh_from_db()
    assert (job.status, job.issued, job.skipped, job.chunks_done, job.attempts) == ("succeeded", 10, 0, 3, 2)
    coupons = Coupon.objects.filter(series=job.series)
    assert coupons.count() == coupons.values("member").distinct().count() == 10


def test_jobs_resume_stale_resumes_an_upload_after_its_last_row(reap):
    upload, members = interrupted_upload()

    counts = reap()

    assert counts["uploads"] == {"resumed": 1, "failed": 0}
    upload.refresh_from_db()
    assert (upload.status, upload.processed_rows, upload.succeeded, upload.failed, upload.attempts) == (
        "succeeded", 5, 4, 1, 2,
    )  # fmt: skip
    assert [Coupon.objects.filter(series=upload.series, member=m).count() for m in members] == [1, 1, 1, 1]
    assert list(upload.issues.values_list("row", "code")) == [(5, "invalid_user_id")]


def test_jobs_resume_stale_reruns_an_export_into_an_exact_file_and_removes_the_partial_one(reap, tmp_path):
    run, partial = interrupted_export(tmp_path)

    counts = reap()

    assert counts["export_runs"] == {"resumed": 1, "failed": 0}
    run.refresh_from_db()
    assert (run.status, run.rows, run.attempts) == ("succeeded", 7, 2)
    with default_storage.open(run.file.name, "rb") as handle:
        assert len(list(csv.reader(io.TextIOWrapper(handle, encoding="utf-8")))) == 8
    assert not partial.exists()
    assert list(tmp_path.glob("export-*")) == []


def test_jobs_resume_stale_fails_jobs_out_of_attempts_with_the_reason(reap, tmp_path):
    job = interrupted_bulk_job(attempts=3)
    upload, _ = interrupted_upload(attempts=3)
    run, partial = interrupted_export(tmp_path, attempts=3)

    counts = reap()

    failed = {"resumed": 0, "failed": 1}
    assert counts == {
        "bulk_issue_jobs": failed,
        "uploads": failed,
        "revoke_jobs": NOTHING,
        "export_runs": failed,
        "import_jobs": NOTHING,
    }
    reason = attempts_exhausted_message(3)
    for row in (job, upload, run):
        row.refresh_from_db()
        assert (row.status, row.error, row.attempts) == ("failed", reason, 3)
        assert row.finished_at is not None
    assert (job.issued, upload.processed_rows) == (4, 2)  # what was committed stays
    assert Coupon.objects.filter(series=job.series).count() == 4
    assert run.events.last().reason == reason
    assert not partial.exists()


def test_jobs_resume_stale_leaves_jobs_with_a_fresh_heartbeat_alone(reap, tmp_path):
    job = interrupted_bulk_job()
    upload, _ = interrupted_upload()
    run, partial = interrupted_export(tmp_path)
    recent = timezone.now() - timedelta(seconds=10)
    for model, row in ((BulkIssueJob, job), (Upload, upload), (ExportRun, run)):
        model.objects.filter(pk=row.pk).update(heartbeat_at=recent)

    counts = reap()

    assert counts == {
        "bulk_issue_jobs": NOTHING,
        "uploads": NOTHING,
        "revoke_jobs": NOTHING,
        "export_runs": NOTHING,
        "import_jobs": NOTHING,
    }
    for row in (job, upload, run):
        row.refresh_from_db()
        assert (row.status, row.attempts, row.heartbeat_at) == ("running", 1, recent)
    assert partial.exists()  # a live run's file


def test_jobs_resume_stale_queues_a_job_once_per_stale_period(django_capture_on_commit_callbacks):
    job = interrupted_bulk_job()

    with django_capture_on_commit_callbacks() as queued:
        jobs_resume_stale(actor=ACTOR)
        jobs_resume_stale(actor=ACTOR)  # its new worker has not started yet: not queued again

    assert len(queued) == 1
    job.refresh_from_db()
    assert (job.status, job.attempts) == ("running", 1)
    with django_capture_on_commit_callbacks() as queued_later:
        jobs_resume_stale(actor=ACTOR, now=timezone.now() + timedelta(minutes=2))
    assert len(queued_later) == 1


def test_jobs_resume_stale_takes_a_running_job_without_a_heartbeat_for_stale(reap):
    job = interrupted_bulk_job()
    BulkIssueJob.objects.filter(pk=job.pk).update(heartbeat_at=None)

    assert reap()["bulk_issue_jobs"] == {"resumed": 1, "failed": 0}
    job.refresh_from_db()
    assert job.status == "succeeded"


def test_resume_stale_jobs_command_prints_what_it_did(django_capture_on_commit_callbacks):
    interrupted_bulk_job()
    out = StringIO()

    with django_capture_on_commit_callbacks(execute=True):
        call_command("resume_stale_jobs", stdout=out)

    assert out.getvalue().splitlines() == [
        "Bulk issue jobs: 1 resumed, 0 failed.",
        "Uploads: 0 resumed, 0 failed.",
        "Revoke jobs: 0 resumed, 0 failed.",
        "Export runs: 0 resumed, 0 failed.",
        "Import jobs: 0 resumed, 0 failed.",
    ]
