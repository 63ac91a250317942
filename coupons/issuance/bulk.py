"""Bulk issuance to a segment or to a series' uploaded member list, in committed chunks.

When a job first runs, the source's members are split into chunks of consecutive member ids. Each chunk
is one transaction: lock the chunk row (SKIP LOCKED, so connections side by side take different chunks),
read the chunk's members and, in the same query, whether the issual rules allow each one, write their
coupons, and mark the chunk done with the counters. A chunk either commits whole or not at all, so a
retried or resumed job redoes exactly the chunks that did not commit and never issues twice; the unique
code constraints and ON CONFLICT DO NOTHING back that up.

A job that cannot run the series out (see `_plan`) reserves its code positions up front and runs its
chunks on several connections; otherwise one connection runs them in order under the series row lock,
taking positions as it goes, so a series limit stops it exactly. Either way the chunks share the series
issuance lock (`coupons.issuance.locks`), which single issues take alone.

On PostgreSQL the rows stream through COPY straight into the coupon table (a chunk whose codes clash
with another series' falls back to a staging table and INSERT … ON CONFLICT DO NOTHING); elsewhere
the same rows go through bulk_create.
"""

import itertools
import threading
import time
from datetime import timedelta

import numpy as np
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import BooleanField, Count, Exists, ExpressionWrapper, F, OuterRef, Q, Subquery, Window
from django.db.models.functions import Coalesce, Mod, RowNumber
from django.db.models.lookups import LessThan
from django.utils import timezone

from audit.models import AuditEvent
from audit.services import audit_record
from config.actors import Actor
from config.jobs import Recovered, stale_jobs_recover
from config.parallel import on_connections
from config.tasks import enqueue_on_commit
from coupons.exceptions import CouponSeriesError
from coupons.issuance.copy_binary import COLUMNS, issued_coupons_payload
from coupons.issuance.job_status import bulk_issue_job_claim, bulk_issue_job_fail, bulk_issue_job_finish
from coupons.issuance.locks import series_issuance_lock
from coupons.issuance.services import coupon_times
from coupons.models import BulkIssueChunk, BulkIssueJob, Coupon, CouponSeries, SeriesAllowedMember
from coupons.notify.limits import series_note_issued
from coupons.series.capacity import series_capacity
from coupons.series.codes import series_code_space, series_generator
from members.models import Member
from webhooks import events
from webhooks.outbox import events_emit
from webhooks.payloads import coupons_emit_thin

COPY_BLOCK = 1 << 16  # small blocks, so the server parses while the codes are still being made


def bulk_issue_start(
    *, series: CouponSeries, source: str, actor: Actor, segment=None, chunk_size: int = 50_000
) -> BulkIssueJob:
    if series.code_mode == CouponSeries.CodeMode.UPLOAD:
        raise CouponSeriesError(
            "Bulk issuance needs generated or common codes; issue uploaded codes with a members upload.",
            code="bulk_issue_not_supported",
        )
    if source == BulkIssueJob.Source.SEGMENT and segment is None:
        raise CouponSeriesError("Choose a segment.", code="segment_required", http_status=400)
    from coupons.tasks import bulk_issue_run_task

    with transaction.atomic():
        job = BulkIssueJob.objects.create(series=series, source=source, segment=segment, chunk_size=chunk_size,
                                          actor=actor.name, channel=actor.channel)  # fmt: skip
        audit_record(actor=actor, action=AuditEvent.Action.BULK_ISSUE, obj=series,
                     changes={"bulk_issue_job": [None, job.pk]},
                     summary=f"Bulk issuance job {job.pk} started ({job.get_source_display()}"
                             + (f": {segment}" if segment else "") + ")")  # fmt: skip
        enqueue_on_commit(bulk_issue_run_task, job_id=job.pk)
    return job


def bulk_issue_run(
    *, job_id: int, actor: Actor, max_chunks: int | None = None, workers: int | None = None
) -> BulkIssueJob:
    """Run (or resume) a job until every chunk is done; `max_chunks` stops early (tests, resumption).

    A job planned side by side runs its chunks on `workers` connections (default
    settings.BULK_ISSUE_WORKERS); inside an open transaction, whose rows other connections cannot see,
    it runs on the caller's connection alone.
    """
    if not bulk_issue_job_claim(job_id=job_id):
        return BulkIssueJob.objects.get(pk=job_id)
    parallel = _plan(job_id=job_id)
    workers = workers or settings.BULK_ISSUE_WORKERS
    if not parallel or connection.vendor != "postgresql" or connection.in_atomic_block:
        workers = 1
    budget, failed = itertools.count(), threading.Event()

    def issue_chunks():
        try:
            while not failed.is_set() and (max_chunks is None or next(budget) < max_chunks):
                if not bulk_issue_chunk(job_id=job_id):
                    break
                _pause_after_chunk()
        except BaseException:
            failed.set()  # the other connections stop after their current chunk; a retry redoes the rest
            raise

    on_connections(issue_chunks, workers=workers)
    with transaction.atomic():
        finished = bulk_issue_job_finish(job_id=job_id)
        job = BulkIssueJob.objects.select_related("series").get(pk=job_id)
        if finished:
            audit_record(actor=actor, action=AuditEvent.Action.BULK_ISSUE, obj=job.series,
                         changes={"issued_count": [None, job.issued]},
                         summary=f"Bulk issuance job {job.pk} finished: {job.issued:,} issued, "
                                 f"{job.skipped:,} skipped")  # fmt: skip
            events_emit(type=events.BULK_ISSUE_FINISHED, object_type="bulk_issue_job", object_id=job.pk,
                        data={"job_id": job.pk, "series_id": job.series_id, "status": job.status,
                              "issued": job.issued, "skipped": job.skipped})  # fmt: skip
    return job


def _pause_after_chunk() -> None:
    # Tests set this to make a job slow enough to kill its worker half-way; zero in production.
    if settings.BULK_ISSUE_PAUSE_PER_CHUNK:
        time.sleep(settings.BULK_ISSUE_PAUSE_PER_CHUNK)


def bulk_issue_jobs_recover_stale(*, now) -> Recovered:
    """Hand each running job whose worker died (stale heartbeat) to a new worker, or fail it, attempts spent.

    A resumed job goes on after its last committed chunk (see the module docstring), so nothing is issued twice.
    """
    from coupons.tasks import bulk_issue_run_task

    return stale_jobs_recover(
        model=BulkIssueJob,
        now=now,
        resume=lambda pk: enqueue_on_commit(bulk_issue_run_task, job_id=pk),
        fail=lambda pk, error: bulk_issue_job_fail(job_id=pk, error=error),
    )


def _plan(*, job_id: int) -> bool:
    """Split the job's members into chunks once, when it first runs; True when they may run side by side.

    One window query over the source gives the member id that closes each chunk and the total. Chunks run
    side by side when the series cannot run out during the job: no series limit in reach and, for
    generated codes, ten times the job's size left in the code space. Their code positions are then
    reserved here, in one move of the series' next position; a member the rules skip leaves its position
    unused.
    """
    with transaction.atomic():
        job = BulkIssueJob.objects.select_for_update().get(pk=job_id)
        if job.status != BulkIssueJob.Status.RUNNING or job.chunks.exists():
            return job.chunks_in_parallel
        series = CouponSeries.objects.select_for_update().get(pk=job.series_id)
        closing = list(
            _in_source(Member.objects.all(), job)
            .annotate(position=Window(RowNumber(), order_by=F("pk").asc()), total=Window(Count("pk")))
            .annotate(slot=Mod(F("position"), job.chunk_size))
            .filter(Q(slot=0) | Q(position=F("total")))
            .order_by("pk")
            .values_list("pk", "position", "total")
        )
        total = closing[-1][2] if closing else 0
        parallel = len(closing) > 1 and _may_run_side_by_side(series, total)
        reserve = parallel and series_code_space(series) is not None
        first_position = series.next_code_index
        chunks, after, done_members = [], 0, 0
        for number, (through, position, _) in enumerate(closing):
            chunks.append(
                BulkIssueChunk(job=job, number=number, after_member_id=after, through_member_id=through,
                               members=position - done_members,
                               code_start=first_position + done_members if reserve else None)
            )  # fmt: skip
            after, done_members = through, position
        BulkIssueChunk.objects.bulk_create(chunks)
        if reserve:
            CouponSeries.objects.filter(pk=series.pk).update(next_code_index=F("next_code_index") + total)
        BulkIssueJob.objects.filter(pk=job.pk).update(total_members=total, chunks_in_parallel=parallel)
        return parallel


def _may_run_side_by_side(series: CouponSeries, members: int) -> bool:
    if series.series_limit is not None and series.series_limit - series.issued_count < members:
        return False
    space = series_code_space(series)
    return space is None or space.size - series.next_code_index >= 10 * members


def bulk_issue_chunk(*, job_id: int) -> bool:
    """Issue the next chunk that is not done and that no other connection holds; False when none is left."""
    now = timezone.now()
    with transaction.atomic():
        chunk = (
            BulkIssueChunk.objects.select_for_update(skip_locked=True)
            .filter(job_id=job_id, done=False)
            .order_by("number")
            .first()
        )
        if chunk is None:
            return False
        job = BulkIssueJob.objects.get(pk=job_id)
        if job.status != BulkIssueJob.Status.RUNNING:
            return False
        series_issuance_lock(job.series_id, shared=True)
        series = CouponSeries.objects.select_related("offer")
        if not job.chunks_in_parallel:
            series = series.select_for_update(of=("self",))
        series = series.get(pk=job.series_id)
        # One index range scan of the chunk's members says, per member, whether the issual rules allow
        # a coupon: members the rules refuse count as skipped.
        members = _in_source(Member.objects.all(), job).filter(
            pk__gt=chunk.after_member_id, pk__lte=chunk.through_member_id
        )
        rows = bulk_issue_decisions(members, series=series, now=now)
        exhausted = False
        if chunk.code_start is not None:
            issued = _write_reserved(series=series, chunk=chunk, rows=rows, now=now)
        else:
            eligible = [pk for pk, may_receive in rows if may_receive]
            remaining = series_capacity(series).remaining
            exhausted = remaining is not None and remaining <= len(eligible)
            if remaining is not None:
                eligible = eligible[: max(0, remaining)]
            issued = issued_coupons_write(series=series, member_ids=eligible, now=now)
        series_note_issued(series=series, count=issued)
        # Thin events: a payload per coupon was most of what the events added to the job (bench/webhooks.py).
        coupons_emit_thin(type=events.COUPON_ISSUED, queryset=_chunk_coupons(series=series, chunk=chunk, now=now),
                          at=now)  # fmt: skip
        BulkIssueChunk.objects.filter(pk=chunk.pk).update(done=True, issued=issued, skipped=len(rows) - issued)
        if exhausted:  # the series is full: the chunks left have nothing to issue
            BulkIssueChunk.objects.filter(job_id=job_id, done=False).update(done=True)
        BulkIssueJob.objects.filter(pk=job.pk).update(
            issued=F("issued") + issued,
            skipped=F("skipped") + len(rows) - issued,
            chunks_done=F("chunks_done") + 1,
            heartbeat_at=timezone.now(),
        )
    return True


def _chunk_coupons(*, series, chunk, now):
    # The chunk's coupons: its members' range of the (member, series, issued_at) index, at the chunk's time.
    return Coupon.objects.filter(member_id__gt=chunk.after_member_id, member_id__lte=chunk.through_member_id,
                                 series_id=series.pk, issued_at=now)  # fmt: skip


def _in_source(members, job):
    """Members of the job's source: a join, so the chunk's id range is one index range scan."""
    if job.source == BulkIssueJob.Source.SEGMENT:
        return members.filter(segments=job.segment_id)
    return members.filter(Exists(SeriesAllowedMember.objects.filter(series=job.series_id, member=OuterRef("pk"))))


def bulk_issue_decisions(members, *, series: CouponSeries, now) -> list[tuple[int, bool]]:
    """(member id, may receive) for each of `members` in id order, in one query: whether the issual rules
    allow each a new coupon of `series` at `now`. The series limit and the codes left are not in it:
    the chunk stops at the series' remaining capacity.
    """
    decided = members.annotate(
        may_receive=ExpressionWrapper(_may_receive(series, now), output_field=BooleanField())
    ).order_by("pk")
    return list(decided.values_list("pk", "may_receive"))


def _may_receive(series: CouponSeries, now) -> Q:
    """The issual rules as one condition on a member row: may it receive a new coupon of `series` at `now`."""
    held = Coupon.objects.filter(series=series, member=OuterRef("pk")).exclude(status=Coupon.Status.REVOKED)
    allowed = Q(status=Member.Status.ACTIVE)
    if series.specific_members_only:
        allowed &= Q(Exists(SeriesAllowedMember.objects.filter(series=series, member=OuterRef("pk"))))
    if series.exclude_window_days is not None:
        excluded = list(series.exclude_recipients_of.values_list("pk", flat=True))
        if excluded:
            since = now - timedelta(days=series.exclude_window_days)
            allowed &= ~Q(
                Exists(Coupon.objects.filter(series_id__in=excluded, member=OuterRef("pk"), issued_at__gte=since))
            )
    if series.code_mode == CouponSeries.CodeMode.COMMON or series.max_per_member == 1:
        allowed &= ~Q(Exists(held))
    elif series.max_per_member is not None:
        count = held.order_by().values("member").annotate(n=Count("id")).values("n")
        allowed &= Q(LessThan(Coalesce(Subquery(count), 0), series.max_per_member))
    if series.min_gap_days:
        allowed &= ~Q(Exists(held.filter(issued_at__gt=now - timedelta(days=series.min_gap_days))))
    return allowed


def _write_reserved(*, series, chunk, rows, now) -> int:
    """Write a chunk whose code positions were reserved (generated codes only): its i-th member gets
    position code_start + i, so a redone chunk makes the same codes. Members beyond the planned count
    (they joined the source inside this id range since) take the series' next positions."""
    reserved = series_generator(series).codes(chunk.code_start, min(len(rows), chunk.members))
    chosen = [(pk, reserved[i]) for i, (pk, may_receive) in enumerate(rows[: len(reserved)]) if may_receive]
    extra = [pk for pk, may_receive in rows[len(reserved) :] if may_receive]
    member_ids, codes = [pk for pk, _ in chosen], [code for _, code in chosen]
    issued = issued_coupons_write(series=series, member_ids=member_ids, codes=codes, now=now)
    return issued + issued_coupons_write(series=series, member_ids=extra, now=now)


def issued_coupons_write(*, series, member_ids, now, codes=None) -> int:
    """Insert coupons for `member_ids`; returns how many were written.

    `codes` are the members' reserved codes; without them, and for a member whose code clashes with
    another series' (odds live/space: one short extra round, in practice never more than one), codes come
    from the series' next positions.
    """
    if not member_ids:
        return 0
    expires_at, redeemable_from = coupon_times(series, now)
    common = series.code_mode == CouponSeries.CodeMode.COMMON
    if common:
        codes = [series.common_code] * len(member_ids)
    written = 0
    pending = member_ids
    while pending:
        if codes is None:
            codes = _next_codes(series, len(pending))
            pending = pending[: len(codes)]
            if not pending:
                break
        inserted = _insert(series=series, codes=codes, member_ids=pending, common=common, now=now,
                           expires_at=expires_at, redeemable_from=redeemable_from)  # fmt: skip
        written += inserted
        if inserted == len(pending) or common:
            break
        have = set(
            Coupon.objects.filter(series=series, member_id__in=pending, issued_at=now).values_list(
                "member_id", flat=True
            )
        )
        pending, codes = [pk for pk in pending if pk not in have], None
    return written


def _next_codes(series, count: int) -> list[str]:
    """Take the series' next `count` code positions (fewer when its code space runs out)."""
    start = CouponSeries.objects.select_for_update().values_list("next_code_index", flat=True).get(pk=series.pk)
    count = max(0, min(count, series_code_space(series).size - start))
    series.next_code_index = start + count
    CouponSeries.objects.filter(pk=series.pk).update(next_code_index=series.next_code_index)
    return series_generator(series).codes(start, count)


def _insert(*, series, codes, member_ids, common, now, expires_at, redeemable_from) -> int:
    if connection.vendor == "postgresql":
        return _insert_copy(series=series, codes=codes, member_ids=member_ids, common=common, now=now,
                            expires_at=expires_at, redeemable_from=redeemable_from)  # fmt: skip
    before = Coupon.objects.filter(series=series).count()
    Coupon.objects.bulk_create(
        (
            Coupon(
                series=series,
                code=code,
                member_id=member_id,
                is_common=common,
                status=Coupon.Status.ISSUED,
                issued_at=now,
                expires_at=expires_at,
                redeemable_from=redeemable_from,
                last_status_change_on=now,
                created_at=now,
            )
            for code, member_id in zip(codes, member_ids, strict=True)
        ),
        batch_size=2000,
        ignore_conflicts=True,
    )
    return Coupon.objects.filter(series=series).count() - before


def _insert_copy(*, series, codes, member_ids, common, now, expires_at, redeemable_from) -> int:
    """COPY the chunk straight into the coupon table; on a code clash, the staging path below.

    A direct COPY runs at the table's ceiling but cannot skip a conflicting row, and a generated code
    clashes with another series' code about live/space of the time. The clash aborts only the savepoint,
    and the staging path (COPY to a temporary table, then INSERT … ON CONFLICT DO NOTHING) writes the rest.
    The rows go in code order, so the unique code index is filled page by page.
    """
    code_array = np.array(codes, dtype="S")
    order = np.argsort(code_array, kind="stable")
    payload = issued_coupons_payload(
        series_id=series.pk,
        codes=code_array[order],
        member_ids=np.asarray(member_ids, dtype=np.int64)[order],
        is_common=common,
        status=Coupon.Status.ISSUED,
        issued_at=now,
        expires_at=expires_at,
        redeemable_from=redeemable_from,
    )
    try:
        statement = f"COPY {Coupon._meta.db_table} ({COLUMNS}) FROM STDIN (FORMAT BINARY)"
        with (
            transaction.atomic(),
            connection.cursor() as cursor,
            connection.wrap_database_errors,
            cursor.cursor.copy(statement) as copy,
        ):
            for start in range(0, len(payload), COPY_BLOCK):
                copy.write(payload[start : start + COPY_BLOCK])
        return len(codes)
    except IntegrityError:
        rows = sorted(zip(codes, member_ids, strict=True))
        return _insert_via_staging(series=series, rows=rows, common=common, now=now, expires_at=expires_at,
                                   redeemable_from=redeemable_from)  # fmt: skip


def _copy_lines(copy, lines) -> None:
    block, size = [], 0
    for line in lines:
        block.append(line)
        size += len(line)
        if size >= COPY_BLOCK:
            copy.write("".join(block))
            block, size = [], 0
    if block:
        copy.write("".join(block))


def _insert_via_staging(*, series, rows, common, now, expires_at, redeemable_from) -> int:
    table = Coupon._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMP TABLE IF NOT EXISTS coupons_bulk_staging (code text, member_id bigint) "
                       "ON COMMIT DELETE ROWS")  # fmt: skip
        cursor.execute("TRUNCATE coupons_bulk_staging")
        with cursor.cursor.copy("COPY coupons_bulk_staging (code, member_id) FROM STDIN") as copy:
            _copy_lines(copy, (f"{code}\t{member_id}\n" for code, member_id in rows))
        cursor.execute(
            f"INSERT INTO {table} (series_id, code, is_common, member_id, status, issued_at, expires_at, "
            "redeemable_from, is_reversed, last_status_change_on, created_at) "
            "SELECT %s, code, %s, member_id, %s, %s, %s, %s, false, %s, %s FROM coupons_bulk_staging ORDER BY code "
            "ON CONFLICT DO NOTHING",
            [series.pk, common, Coupon.Status.ISSUED, now, expires_at, redeemable_from, now, now],
        )
        return cursor.rowcount
