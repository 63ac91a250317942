"""Bulk issuance to a segment or to a series' uploaded member list, in committed chunks.

Each chunk is one transaction: lock the job and the series, pick the next members by id after the
job's cursor and, in the same query, whether the issual rules allow each one; give the k-th allowed the code
perm(next_code_index + k), write the coupons and move the cursor and counters. A chunk either commits
whole or not at all, so a retried or resumed job continues after the last committed chunk and never
issues twice; the unique code constraints and ON CONFLICT DO NOTHING back that up.

On PostgreSQL the rows stream through COPY straight into the coupon table (a chunk whose codes clash
with another series' falls back to a staging table and INSERT … ON CONFLICT DO NOTHING); elsewhere
the same rows go through bulk_create.
"""

from datetime import timedelta

import numpy as np
from django.db import IntegrityError, connection, transaction
from django.db.models import BooleanField, Count, Exists, ExpressionWrapper, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.db.models.lookups import LessThan
from django.utils import timezone

from config.actors import Actor
from config.tasks import enqueue_on_commit
from members.models import Member

from .codes import series_code_space, series_generator
from .copy_binary import COLUMNS, issued_coupons_payload
from .exceptions import CouponSeriesError
from .models import BulkIssueJob, Coupon, CouponSeries, SeriesAllowedMember
from .services import coupon_times, series_capacity, series_note_issued

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
    from .tasks import bulk_issue_run_task

    with transaction.atomic():
        job = BulkIssueJob.objects.create(series=series, source=source, segment=segment, chunk_size=chunk_size,
                                          actor=actor.name, channel=actor.channel)  # fmt: skip
        enqueue_on_commit(bulk_issue_run_task, job_id=job.pk)
    return job


def bulk_issue_run(*, job_id: int, actor: Actor, max_chunks: int | None = None) -> BulkIssueJob:
    """Run (or resume) a job until its source is exhausted; `max_chunks` stops early (tests, resumption)."""
    BulkIssueJob.objects.filter(pk=job_id, status__in=[BulkIssueJob.Status.QUEUED, BulkIssueJob.Status.RUNNING]).update(
        status=BulkIssueJob.Status.RUNNING, started_at=Coalesce("started_at", timezone.now())
    )
    # Counted once, so a resumed job measures its progress against the figure it started with.
    unsized = BulkIssueJob.objects.filter(pk=job_id, status=BulkIssueJob.Status.RUNNING, total_members__isnull=True)
    job = unsized.first()
    if job is not None:
        unsized.update(total_members=_in_source(Member.objects.all(), job).count())
    done = 0
    while max_chunks is None or done < max_chunks:
        more = bulk_issue_chunk(job_id=job_id)
        done += 1
        if not more:
            BulkIssueJob.objects.filter(pk=job_id, status=BulkIssueJob.Status.RUNNING).update(
                status=BulkIssueJob.Status.SUCCEEDED, finished_at=timezone.now()
            )
            break
    return BulkIssueJob.objects.get(pk=job_id)


def bulk_issue_fail(*, job_id: int, error: str) -> None:
    """Mark an unfinished job failed with its error; the chunks it committed stay issued."""
    BulkIssueJob.objects.filter(pk=job_id, status__in=[BulkIssueJob.Status.QUEUED, BulkIssueJob.Status.RUNNING]).update(
        status=BulkIssueJob.Status.FAILED, error=error[:2000], finished_at=timezone.now()
    )


def bulk_issue_chunk(*, job_id: int) -> bool:
    """Issue one chunk; False when the job has nothing left to do."""
    now = timezone.now()
    with transaction.atomic():
        job = BulkIssueJob.objects.select_for_update().get(pk=job_id)
        if job.status != BulkIssueJob.Status.RUNNING:
            return False
        series = CouponSeries.objects.select_for_update().select_related("offer").get(pk=job.series_id)
        # One index range scan of the source picks the chunk and says, per member, whether the issual
        # rules allow a coupon: members the rules refuse still move the cursor (they count as skipped).
        rows = list(
            _in_source(Member.objects.all(), job)
            .filter(pk__gt=job.cursor)
            .annotate(may_receive=ExpressionWrapper(_may_receive(series, now), output_field=BooleanField()))
            .order_by("pk")
            .values_list("pk", "may_receive")[: job.chunk_size]
        )
        if not rows:
            return False
        candidates = len(rows)
        last = rows[-1][0]
        eligible = [pk for pk, may_receive in rows if may_receive]
        remaining = series_capacity(series).remaining
        exhausted = remaining is not None and remaining <= len(eligible)
        if remaining is not None:
            eligible = eligible[: max(0, remaining)]
        issued = _write(series=series, member_ids=eligible, now=now)
        series_note_issued(series=series, count=issued)
        BulkIssueJob.objects.filter(pk=job.pk).update(
            cursor=last,
            issued=job.issued + issued,
            skipped=job.skipped + candidates - issued,
            chunks_done=job.chunks_done + 1,
        )
        if exhausted:
            return False
    return candidates == job.chunk_size


def _in_source(members, job):
    """Members of the job's source: a join, so the chunk's id range is one index range scan."""
    if job.source == BulkIssueJob.Source.SEGMENT:
        return members.filter(segments=job.segment_id)
    return members.filter(Exists(SeriesAllowedMember.objects.filter(series=job.series_id, member=OuterRef("pk"))))


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


def _write(*, series, member_ids, now) -> int:
    """Insert coupons for `member_ids`; returns how many were written."""
    if not member_ids:
        return 0
    expires_at, redeemable_from = coupon_times(series, now)
    common = series.code_mode == CouponSeries.CodeMode.COMMON
    written = 0
    pending = member_ids
    # A generated code that clashes with another series' code (odds live/space) is skipped and that
    # member gets the next position: one short extra round, in practice never more than one.
    while pending:
        start = series.next_code_index
        if common:
            codes = [series.common_code] * len(pending)
        else:
            space = series_code_space(series).size
            if start + len(pending) > space:
                pending = pending[: max(0, space - start)]
            codes = series_generator(series).codes(start, len(pending))
        if not pending:
            break
        inserted = _insert(series=series, codes=codes, member_ids=pending, common=common, now=now,
                           expires_at=expires_at, redeemable_from=redeemable_from)  # fmt: skip
        written += inserted
        if not common:
            series.next_code_index = start + len(pending)
            CouponSeries.objects.filter(pk=series.pk).update(next_code_index=series.next_code_index)
        if inserted == len(pending) or common:
            break
        have = set(
            Coupon.objects.filter(series=series, member_id__in=pending, issued_at=now).values_list(
                "member_id", flat=True
            )
        )
        pending = [pk for pk in pending if pk not in have]
    return written


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
