"""Jobs survive a killed worker: a pool child SIGKILLed mid bulk issue, mid upload or mid export (as the OOM
killer does), and a whole worker killed with a visibility timeout far longer than the test. The reaper runs
through the broker, as beat would send it, with a stale threshold of two seconds."""

import csv
import io
import time
from collections import Counter

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from config.actors import Actor
from coupons.issuance.bulk import bulk_issue_start
from coupons.issuance.uploads import upload_create
from coupons.models import BulkIssueJob, Coupon, CouponEvent, Upload
from exports import services as export_services
from exports.models import ExportRun
from jobs.tasks import jobs_resume_stale_task
from members.models import Member
from tests.coupons.factories import CouponSeriesFactory
from tests.integration.conftest import wait_for
from tests.members.factories import SegmentFactory

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

ACTOR = Actor.system("integration")
MEMBERS = 2_000


@pytest.fixture(autouse=True)
def short_stale_threshold_and_slow_chunks(monkeypatch):
    """Set before any worker starts: a worker reads its environment once, when it starts."""
    monkeypatch.setenv("JOBS_STALE_AFTER_SECONDS", "2")
    monkeypatch.setenv("BULK_ISSUE_PAUSE_PER_CHUNK", "0.2")  # 20 chunks of 100, a pause after each


def segment_of(size):
    segment = SegmentFactory(code="killed-worker")
    members = Member.objects.bulk_create(Member(external_id=f"K{n:05d}", email=f"k{n}@example.com")
                                         for n in range(size))  # fmt: skip
    Member.segments.through.objects.bulk_create(
        Member.segments.through(member_id=m.pk, segment_id=segment.pk) for m in members
    )
    return segment


def finish_with_the_reaper(is_finished, worker, *, timeout=60.0, message):
    """Wait for the job, sending the reaper through the broker every few seconds as beat would."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        jobs_resume_stale_task.delay()
        try:
            wait_for(is_finished, timeout=min(3.0, max(0.1, deadline - time.monotonic())), message=message)
            return
        except AssertionError:
            continue
    raise AssertionError(f"timed out after {timeout}s waiting for {message}; worker log:\n{worker.output()[-3000:]}")


def assert_each_member_has_exactly_one_coupon(job):
    job.refresh_from_db()
    assert (job.status, job.issued, job.skipped, job.chunks_done) == ("succeeded", MEMBERS, 0, MEMBERS // 100)
    coupons = Coupon.objects.filter(series=job.series)
    assert coupons.count() == MEMBERS
    assert coupons.values("member").distinct().count() == coupons.values("code").distinct().count() == MEMBERS
    job.series.refresh_from_db()
    assert job.series.issued_count == MEMBERS


def start_bulk_job_and_wait_until_under_way(monkeypatch):
    segment = segment_of(MEMBERS)
    series = CouponSeriesFactory(series_limit=MEMBERS * 2)  # one connection, positions taken in order
    job = bulk_issue_start(series=series, source="segment", segment=segment, actor=ACTOR, chunk_size=100)

    def under_way():
        job.refresh_from_db()
        return job.status == "running" and job.chunks_done >= 3

    wait_for(under_way, timeout=60, message="the bulk job to be under way")
    return job


def test_bulk_issue_finishes_exactly_after_its_pool_child_is_killed(celery_worker_factory, monkeypatch):
    worker = celery_worker_factory(pool="prefork", visibility_timeout=3600)
    job = start_bulk_job_and_wait_until_under_way(monkeypatch)

    worker.kill_pool_child()

    finish_with_the_reaper(lambda: BulkIssueJob.objects.get(pk=job.pk).is_finished, worker, message="the bulk job")
    assert_each_member_has_exactly_one_coupon(job)
    job.refresh_from_db()
    assert job.attempts == 2 and job.error == ""
    assert worker.process.poll() is None  # the worker lived on; only its pool child died


def test_bulk_issue_finishes_after_its_whole_worker_is_killed_without_waiting_for_the_visibility_timeout(
    celery_worker_factory, monkeypatch
):
    first = celery_worker_factory(visibility_timeout=3600)
    job = start_bulk_job_and_wait_until_under_way(monkeypatch)

    first.kill()  # its message stays unacknowledged in Redis for the next hour
    second = celery_worker_factory(visibility_timeout=3600)

    finish_with_the_reaper(lambda: BulkIssueJob.objects.get(pk=job.pk).is_finished, second, message="the bulk job")
    assert_each_member_has_exactly_one_coupon(job)
    job.refresh_from_db()
    assert job.attempts == 2


def test_export_finishes_with_exactly_its_rows_after_its_pool_child_is_killed(
    celery_worker_factory, monkeypatch, settings
):
    monkeypatch.setenv("EXPORTS_CHUNK_ROWS", "50")  # 40 chunks of 50 rows, a pause after each
    monkeypatch.setenv("EXPORTS_PAUSE_PER_CHUNK", "0.2")
    segment_of(MEMBERS)
    definition = export_services.export_definition_create(
        name="Everyone", dataset="members", columns=["external_id", "email"], actor=ACTOR
    )
    worker = celery_worker_factory(pool="prefork", visibility_timeout=3600)
    run = export_services.export_run_start(definition=definition, actor=ACTOR)

    def half_way():
        run.refresh_from_db()
        return run.status == "running" and run.progress_done >= 300

    wait_for(half_way, timeout=60, message="the export to be well under way")
    worker.kill_pool_child()

    finish_with_the_reaper(lambda: ExportRun.objects.get(pk=run.pk).is_finished, worker, message="the export")
    run.refresh_from_db()
    assert run.status == "succeeded", run.error
    assert (run.rows, run.attempts) == (MEMBERS, 2)
    with default_storage.open(run.file.name, "rb") as handle:
        rows = list(csv.reader(io.TextIOWrapper(handle, encoding="utf-8", newline="")))
    assert rows[0] == ["external_id", "email"]
    assert [row[0] for row in rows[1:]] == [f"K{n:05d}" for n in range(MEMBERS)]  # none lost, none repeated
    assert list(run.events.values_list("old_status", "new_status")) == [
        ("", "queued"), ("queued", "running"), ("running", "running"), ("running", "succeeded"),
    ]  # fmt: skip
    default_storage.delete(run.file.name)


def test_upload_finishes_exactly_after_its_pool_child_is_killed(celery_worker_factory, monkeypatch):
    monkeypatch.setenv("UPLOAD_CHUNK_ROWS", "100")  # 21 chunks, a pause after each
    monkeypatch.setenv("UPLOAD_PAUSE_PER_CHUNK", "0.2")
    segment_of(MEMBERS)
    series = CouponSeriesFactory(max_per_member=5, min_gap_days=None)  # a row issued twice would show
    # Each member once, then the first member again: row 2,001 is that member's second coupon, once.
    lines = [f"K{n:05d}" for n in range(MEMBERS)] + ["K00000", "NOBODY"]
    file = ContentFile(("external_id\n" + "\n".join(lines) + "\n").encode(), name="killed.csv")
    worker = celery_worker_factory(pool="prefork", visibility_timeout=3600)
    upload = upload_create(series=series, kind="members", file=file, actor=ACTOR)

    def under_way():
        upload.refresh_from_db()
        return upload.status == "running" and upload.processed_rows >= 300

    wait_for(under_way, timeout=60, message="the upload to be under way")
    worker.kill_pool_child()

    finished = lambda: Upload.objects.get(pk=upload.pk).status in ("succeeded", "failed")  # noqa: E731
    finish_with_the_reaper(finished, worker, message="the upload")
    upload.refresh_from_db()
    assert (upload.status, upload.attempts, upload.error) == ("succeeded", 2, "")
    assert (upload.total_rows, upload.processed_rows, upload.succeeded, upload.failed) == (2002, 2002, 2001, 1)
    assert list(upload.issues.values_list("row", "code")) == [(2002, "invalid_external_id")]
    held = Counter(Coupon.objects.filter(series=series).values_list("member__external_id", flat=True))
    assert len(held) == MEMBERS and held["K00000"] == 2 and set(held.values()) == {1, 2}
    assert sum(held.values()) == 2001
    assert CouponEvent.objects.filter(coupon__series=series).count() == 2001  # one "issued" event each
    series.refresh_from_db()
    assert series.issued_count == 2001
