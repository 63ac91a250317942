"""Bulk issuance to a segment or to a series' uploaded member list, in committed chunks.

Each chunk is one transaction: lock the job and the series, pick the next members by id after the
job's cursor, keep those the issual rules allow (one set-based query), give the k-th of them the code
perm(next_code_index + k), write the coupons and move the cursor and counters. A chunk either commits
whole or not at all, so a retried or resumed job continues after the last committed chunk and never
issues twice; the unique code constraints and ON CONFLICT DO NOTHING back that up.

On PostgreSQL the rows stream through COPY into a temporary staging table, then one INSERT … SELECT
writes them; elsewhere the same rows go through bulk_create.
"""

from datetime import timedelta

from django.db import IntegrityError, connection, transaction
from django.db.models import Count, Exists, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from config.actors import Actor
from config.tasks import enqueue_on_commit
from members.models import Member

from .codes import series_code_space, series_generator
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


def bulk_issue_chunk(*, job_id: int) -> bool:
    """Issue one chunk; False when the job has nothing left to do."""
    now = timezone.now()
    with transaction.atomic():
        job = BulkIssueJob.objects.select_for_update().get(pk=job_id)
        if job.status != BulkIssueJob.Status.RUNNING:
            return False
        series = CouponSeries.objects.select_for_update().select_related("offer").get(pk=job.series_id)
        candidates = list(
            _in_source(Member.objects.all(), job)
            .filter(pk__gt=job.cursor)
            .order_by("pk")
            .values_list("pk", flat=True)[: job.chunk_size]
        )
        if not candidates:
            return False
        last = candidates[-1]
        eligible = list(
            _in_source(_eligible(series, now), job).filter(pk__gt=job.cursor, pk__lte=last)
            .order_by("pk").values_list("pk", flat=True)
        )  # fmt: skip
        remaining = series_capacity(series).remaining
        exhausted = remaining is not None and remaining <= len(eligible)
        if remaining is not None:
            eligible = eligible[: max(0, remaining)]
        issued = _write(series=series, member_ids=eligible, now=now)
        series_note_issued(series=series, count=issued)
        BulkIssueJob.objects.filter(pk=job.pk).update(
            cursor=last,
            issued=job.issued + issued,
            skipped=job.skipped + len(candidates) - issued,
            chunks_done=job.chunks_done + 1,
        )
        if exhausted:
            return False
    return len(candidates) == job.chunk_size


def _in_source(members, job):
    """Members of the job's source: a join, so the chunk's id range is one index range scan."""
    if job.source == BulkIssueJob.Source.SEGMENT:
        return members.filter(segments=job.segment_id)
    return members.filter(Exists(SeriesAllowedMember.objects.filter(series=job.series_id, member=OuterRef("pk"))))


def _eligible(series: CouponSeries, now):
    """The issual rules as one query: who may receive a new coupon of `series` at `now`."""
    members = Member.objects.filter(status=Member.Status.ACTIVE)
    held = Coupon.objects.filter(series=series, member=OuterRef("pk")).exclude(status=Coupon.Status.REVOKED)
    if series.specific_members_only:
        members = members.filter(Exists(SeriesAllowedMember.objects.filter(series=series, member=OuterRef("pk"))))
    if series.exclude_window_days is not None:
        excluded = list(series.exclude_recipients_of.values_list("pk", flat=True))
        if excluded:
            since = now - timedelta(days=series.exclude_window_days)
            members = members.exclude(
                Exists(Coupon.objects.filter(series_id__in=excluded, member=OuterRef("pk"), issued_at__gte=since))
            )
    if series.code_mode == CouponSeries.CodeMode.COMMON:
        members = members.exclude(Exists(held))
    if series.max_per_member is not None:
        count = held.order_by().values("member").annotate(n=Count("id")).values("n")
        members = members.annotate(held_count=Coalesce(Subquery(count), 0)).filter(held_count__lt=series.max_per_member)
    if series.min_gap_days:
        members = members.exclude(Exists(held.filter(issued_at__gt=now - timedelta(days=series.min_gap_days))))
    return members


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
        rows = zip(codes, pending, strict=True)
        inserted = _insert(series=series, rows=rows, common=common, now=now, expires_at=expires_at,
                           redeemable_from=redeemable_from)  # fmt: skip
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


def _insert(*, series, rows, common, now, expires_at, redeemable_from) -> int:
    if connection.vendor == "postgresql":
        return _insert_copy(series=series, rows=rows, common=common, now=now, expires_at=expires_at,
                            redeemable_from=redeemable_from)  # fmt: skip
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
            for code, member_id in rows
        ),
        batch_size=2000,
        ignore_conflicts=True,
    )
    return Coupon.objects.filter(series=series).count() - before


def _insert_copy(*, series, rows, common, now, expires_at, redeemable_from) -> int:
    """COPY the chunk straight into the coupon table; on a code clash, the staging path below.

    A direct COPY runs at the table's ceiling but cannot skip a conflicting row, and a generated code
    clashes with another series' code about live/space of the time. The clash aborts only the savepoint,
    and the staging path (COPY to a temporary table, then INSERT … ON CONFLICT DO NOTHING) writes the rest.
    """
    rows = sorted(rows)  # in code order, so the unique code index is filled page by page
    values = (series.pk, "t" if common else "f", Coupon.Status.ISSUED, _copy_value(now), _copy_value(expires_at),
              _copy_value(redeemable_from))  # fmt: skip
    try:
        with transaction.atomic(), connection.cursor() as cursor, connection.wrap_database_errors:
            series_id, is_common, status, issued_at, expires, redeemable = values
            with cursor.cursor.copy(
                f"COPY {Coupon._meta.db_table} (series_id, code, is_common, member_id, status, issued_at, "
                "expires_at, redeemable_from, is_reversed, last_status_change_on, created_at) FROM STDIN"
            ) as copy:
                tail = f"\t{status}\t{issued_at}\t{expires}\t{redeemable}\tf\t{issued_at}\t{issued_at}\n"
                _copy_lines(copy, (f"{series_id}\t{code}\t{is_common}\t{member_id}{tail}" for code, member_id in rows))
        return len(rows)
    except IntegrityError:
        return _insert_via_staging(series=series, rows=rows, common=common, now=now, expires_at=expires_at,
                                   redeemable_from=redeemable_from)  # fmt: skip


def _copy_value(value) -> str:
    return "\\N" if value is None else value.isoformat()


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
