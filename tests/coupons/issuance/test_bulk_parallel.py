"""Bulk issuance chunks on two PostgreSQL connections at once, and the series issuance lock between them
and single issues."""

import threading
import time

import pytest
from django.db import transaction

from config.actors import Actor
from coupons.issuance import bulk as bulk
from coupons.issuance.bulk import bulk_issue_run
from coupons.issuance.locks import series_issuance_lock
from coupons.issuance.services import coupon_issue
from coupons.models import Coupon
from coupons.series.codes import series_generator
from tests.concurrency import run_callers
from tests.coupons.factories import CouponSeriesFactory
from tests.coupons.issuance.test_bulk import make_job, segment_of

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
ACTOR = Actor.system()


def record_chunk_threads(monkeypatch):
    """Wrap bulk_issue_chunk to note which thread ran each chunk."""
    real, threads, lock = bulk.bulk_issue_chunk, [], threading.Lock()

    def chunk(**kwargs):
        handled = real(**kwargs)
        if handled:
            with lock:
                threads.append(threading.get_ident())
            time.sleep(0.02)  # let the other connection take the next chunk
        return handled

    monkeypatch.setattr(bulk, "bulk_issue_chunk", chunk)
    return threads


def fail_inside_chunk(monkeypatch, call):
    """Make the `call`-th chunk fail after writing its coupons, before it commits."""
    real, calls, lock = bulk.series_note_issued, [0], threading.Lock()

    def note(**kwargs):
        with lock:
            calls[0] += 1
            if calls[0] == call:
                raise ConnectionError("database went away")
        return real(**kwargs)

    monkeypatch.setattr(bulk, "series_note_issued", note)


def test_chunks_run_on_two_connections_and_every_member_gets_one_reserved_code(monkeypatch):
    segment, members = segment_of(30)
    series = CouponSeriesFactory()
    job = make_job(series, segment, chunk_size=4)
    threads = record_chunk_threads(monkeypatch)

    job = bulk_issue_run(job_id=job.pk, actor=ACTOR, workers=2)

    assert (job.status, job.chunks_in_parallel, job.issued, job.skipped, job.chunks_done) == (
        "succeeded", True, 30, 0, 8,
    )  # fmt: skip
    assert len(threads) == 8 and len(set(threads)) == 2
    codes = dict(Coupon.objects.filter(series=series).values_list("member_id", "code"))
    generator = series_generator(series)
    assert [codes[m.pk] for m in members] == [generator.code(n) for n in range(30)]
    series.refresh_from_db()
    assert (series.issued_count, series.next_code_index) == (30, 30)


def test_a_failed_chunk_is_redone_with_the_same_codes_and_nothing_is_issued_twice(monkeypatch):
    segment, members = segment_of(20)
    series = CouponSeriesFactory(max_per_member=3)
    job = make_job(series, segment, chunk_size=4)
    record_chunk_threads(monkeypatch)
    fail_inside_chunk(monkeypatch, call=3)
    with pytest.raises(ConnectionError):
        bulk_issue_run(job_id=job.pk, actor=ACTOR, workers=2)
    job.refresh_from_db()
    assert job.status == "running" and 0 < job.issued < 20
    assert Coupon.objects.filter(series=series).count() == job.issued  # the failed chunk left nothing
    monkeypatch.undo()

    job = bulk_issue_run(job_id=job.pk, actor=ACTOR, workers=2)

    assert (job.status, job.issued, job.chunks_done) == ("succeeded", 20, 5)
    codes = dict(Coupon.objects.filter(series=series).values_list("member_id", "code"))
    assert [codes[m.pk] for m in members] == [series_generator(series).code(n) for n in range(20)]
    assert Coupon.objects.filter(series=series).count() == 20


def test_a_series_limit_in_reach_keeps_the_job_on_one_connection_and_stops_exactly_at_it(monkeypatch):
    segment, _ = segment_of(12)
    series = CouponSeriesFactory(series_limit=7)
    threads = record_chunk_threads(monkeypatch)

    job = bulk_issue_run(job_id=make_job(series, segment, chunk_size=4).pk, actor=ACTOR, workers=2)

    assert (job.status, job.chunks_in_parallel, job.issued) == ("succeeded", False, 7)
    assert len(set(threads)) == 1
    assert Coupon.objects.filter(series=series).count() == 7


def test_a_single_issue_waits_for_an_uncommitted_bulk_chunk_of_its_series():
    _, members = segment_of(1)
    series = CouponSeriesFactory(max_per_member=1)
    chunk_holds_lock, release, issued = threading.Event(), threading.Event(), threading.Event()

    def bulk_chunk_in_flight():
        with transaction.atomic():
            series_issuance_lock(series.pk, shared=True)
            chunk_holds_lock.set()
            release.wait(10)

    def single_issue():
        chunk_holds_lock.wait(10)
        coupon_issue(series=series, member=members[0], actor=ACTOR)
        issued.set()

    def watch():
        """Whether the single issue was still queued behind the chunk half a second after the chunk took the lock."""
        held = chunk_holds_lock.wait(10)
        queued = not issued.wait(0.5)
        release.set()
        return held, queued

    outcomes = run_callers([bulk_chunk_in_flight, single_issue, watch], together=False)

    assert [outcome.error for outcome in outcomes] == [None] * 3
    assert outcomes[2].result == (True, True)  # the chunk held the lock, and the single issue waited for it
    assert issued.is_set()
    assert Coupon.objects.filter(series=series, member=members[0]).count() == 1
