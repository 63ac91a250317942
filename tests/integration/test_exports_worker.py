"""Exports through a real Celery worker on Redis and PostgreSQL, including a worker killed mid-export."""

import csv
import io
import time

import pytest
from django.core.files.storage import default_storage
from django.db import transaction

from config.actors import Actor
from exports import services
from exports.models import ExportRun
from members.models import Member
from tests.integration.conftest import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

ACTOR = Actor.system("integration")
VISIBILITY_TIMEOUT = 3


def make_members(count: int, *, inactive_every: int = 0) -> None:
    Member.objects.bulk_create(
        Member(external_id=f"M{n:06d}", email=f"m{n}@example.com", first_name="Zoë", last_name=f"Row, {n}",
               status="inactive" if inactive_every and n % inactive_every == 0 else "active")
        for n in range(1, count + 1)
    )  # fmt: skip


def stored_rows(run: ExportRun) -> list[list[str]]:
    with default_storage.open(run.file.name, "rb") as handle:
        return list(csv.reader(io.TextIOWrapper(handle, encoding="utf-8", newline="")))


def run_status(run_id: int) -> str:
    return ExportRun.objects.values_list("status", flat=True).get(pk=run_id)


def wait_until_finished(run_id: int, worker, *, timeout: float) -> None:
    try:
        wait_for(lambda: run_status(run_id) in ExportRun.FINISHED, timeout=timeout, message=f"export run {run_id}")
    except AssertionError as exc:
        raise AssertionError(f"{exc}; worker log:\n{worker.output()[-3000:]}") from None


def test_exports_an_export_runs_end_to_end_on_a_real_worker(celery_worker):
    make_members(250, inactive_every=5)
    definition = services.export_definition_create(
        name="Active members", dataset="members", columns=["external_id", "last_name", "status"],
        filters={"status": "active"}, actor=ACTOR,
    )  # fmt: skip

    with transaction.atomic():
        run = services.export_run_start(definition=definition, actor=ACTOR)
        assert run_status(run.pk) == "queued"  # nothing is sent before the commit

    wait_until_finished(run.pk, celery_worker, timeout=60)
    run.refresh_from_db()
    assert run.status == "succeeded", run.error
    assert run.rows == 200 and (run.progress_done, run.progress_total) == (200, 200)
    rows = stored_rows(run)
    assert rows[0] == ["external_id", "last_name", "status"]
    assert rows[1] == ["M000001", "Row, 1", "active"]
    assert len(rows) == 201 and {row[2] for row in rows[1:]} == {"active"}
    assert "succeeded" in celery_worker.output()
    default_storage.delete(run.file.name)


def test_exports_a_worker_killed_mid_export_is_replaced_and_the_rerun_counts_exactly(
    celery_worker_factory, monkeypatch
):
    # Slow the export down deterministically: 40 chunks of 50 rows, a pause after each.
    monkeypatch.setenv("EXPORTS_CHUNK_ROWS", "50")
    monkeypatch.setenv("EXPORTS_PAUSE_PER_CHUNK", "0.2")
    make_members(2000)
    definition = services.export_definition_create(
        name="Everyone", dataset="members", columns=["external_id", "email"], actor=ACTOR
    )
    first = celery_worker_factory(visibility_timeout=VISIBILITY_TIMEOUT)
    run = services.export_run_start(definition=definition, actor=ACTOR)

    def half_way():
        run.refresh_from_db()
        return run.status == "running" and run.progress_done >= 300

    wait_for(half_way, timeout=60, message="the export to be well under way")
    first.kill()
    run.refresh_from_db()
    assert run.status == "running" and 300 <= run.progress_done < 2000 and run.attempts == 1

    # Redis hands the unacknowledged task out again once it is older than the visibility timeout (3 s here).
    # A new worker looks for such tasks when it starts and then only every ~100 s, so let the timeout pass first.
    time.sleep(VISIBILITY_TIMEOUT + 1)
    second = celery_worker_factory(visibility_timeout=VISIBILITY_TIMEOUT)
    wait_until_finished(run.pk, second, timeout=90)

    run.refresh_from_db()
    assert run.status == "succeeded", run.error
    assert run.rows == 2000 and run.attempts == 2
    rows = stored_rows(run)
    assert len(rows) == 2001
    assert [row[0] for row in rows[1:]] == [f"M{n:06d}" for n in range(1, 2001)]  # no row lost or repeated
    assert list(run.events.values_list("old_status", "new_status")) == [
        ("", "queued"), ("queued", "running"), ("running", "running"), ("running", "succeeded"),
    ]  # fmt: skip
    assert "succeeded" in second.output()
    default_storage.delete(run.file.name)
