"""Admin imports on a real Celery worker (Redis, PostgreSQL): the request only queues, the worker reviews and
imports, and a pool child killed mid-import (as the OOM killer does) leaves a job the reaper finishes exactly."""

import time

import pytest
from django.urls import reverse

from jobs.models import ImportJob
from jobs.tasks import jobs_resume_stale_task
from members.models import Member
from tests.admin_imports import import_post, job_of
from tests.integration.conftest import celery_worker, celery_worker_factory, wait_for  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
ROWS = 2_000
HEADER = "external_id,email,first_name,last_name\n"


@pytest.fixture(autouse=True)
def small_chunks_and_a_short_stale_threshold(monkeypatch):
    """Set before any worker starts: a worker reads its environment once, when it starts."""
    monkeypatch.setenv("IMPORT_CHUNK_ROWS", "100")
    monkeypatch.setenv("JOBS_STALE_AFTER_SECONDS", "2")


def members_file(rows=ROWS) -> str:
    return HEADER + "".join(f"W-{n:05d},w{n}@example.com,First{n},Last{n}\n" for n in range(1, rows + 1))


def finished(job_id):
    return lambda: ImportJob.objects.get(pk=job_id).is_finished


def test_the_worker_reviews_then_imports_what_the_admin_queued(celery_worker, admin_client):  # noqa: F811
    response = import_post(admin_client, "admin:members_member_import", members_file(300))

    review = job_of(response)  # the request has returned: the job was queued, the worker takes it from here
    wait_for(finished(review.pk), timeout=120, message="the review")
    review.refresh_from_db()
    assert (review.status, review.total_rows, review.new, review.errors) == ("succeeded", 300, 300, 0)
    assert not Member.objects.exists()

    imported = job_of(admin_client.post(reverse("admin:jobs_importjob_confirm", args=[review.pk])))
    wait_for(finished(imported.pk), timeout=120, message="the import")
    imported.refresh_from_db()
    assert (imported.status, imported.processed_rows, imported.new) == ("succeeded", 300, 300)
    assert Member.objects.count() == 300


def test_an_import_finishes_exactly_after_its_pool_child_is_killed(celery_worker_factory, admin_client):  # noqa: F811
    worker = celery_worker_factory(pool="prefork", visibility_timeout=3600)
    review = job_of(import_post(admin_client, "admin:members_member_import", members_file()))
    wait_for(finished(review.pk), timeout=300, message="the review")
    imported = job_of(admin_client.post(reverse("admin:jobs_importjob_confirm", args=[review.pk])))

    def under_way():
        job = ImportJob.objects.get(pk=imported.pk)
        return job.status == "running" and job.processed_rows >= 300

    wait_for(under_way, timeout=120, message="the import to be under way")
    worker.kill_pool_child()

    deadline = time.monotonic() + 300
    while not finished(imported.pk)() and time.monotonic() < deadline:
        jobs_resume_stale_task.delay()  # as beat sends it
        time.sleep(3)
    imported.refresh_from_db()
    assert (imported.status, imported.attempts, imported.error) == ("succeeded", 2, ""), worker.output()[-3000:]
    assert (imported.processed_rows, imported.new, imported.updated) == (ROWS, ROWS, 0)  # no row written twice
    assert Member.objects.count() == ROWS
