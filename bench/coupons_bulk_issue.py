"""Bulk coupon issuance: the job against a plain COPY (the ceiling) and an ORM bulk_create path.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/offerdesk .venv/bin/python bench/coupons_bulk_issue.py \
        [--members 1000000] [--orm-sample 100000] [--chunk 50000]

Creates a throwaway database (test_<name>), loads the members with COPY (not timed), then times:
1. the bulk issuance job (bulk_issue_run: chunks of member ids on BULK_ISSUE_WORKERS connections, one
   query per chunk reads its members and applies the issual rules, codes perm(n), COPY into the coupon
   table, counters per chunk) for every member of one segment, then the same job on one connection;
2. a plain COPY of the same coupon rows straight into the coupon table (no rules, no staging);
3. Coupon.objects.bulk_create on `--orm-sample` rows, extrapolated to the full count (it is slow).
Each figure is coupons per second; the ratios compare the job with the other two in the same run.
"""

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.development")

import django

django.setup()

import numpy as np  # noqa: E402
from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

from config.actors import Actor  # noqa: E402


def load_members(count: int, segment_id: int) -> None:
    now = timezone.now().isoformat()
    with connection.cursor() as cursor:
        with cursor.cursor.copy(
            "COPY members_member (external_id, email, mobile, user_id, first_name, last_name, registered_at, "
            "status, transaction_count, points_balance) FROM STDIN"
        ) as copy:
            block = []
            for n in range(count):
                block.append(f"B{n:08d}\t\t\t\t\t\t{now}\tactive\t0\t0\n")
                if len(block) == 50_000:
                    copy.write("".join(block))
                    block = []
            if block:
                copy.write("".join(block))
        cursor.execute(
            "INSERT INTO members_member_segments (member_id, segment_id) SELECT id, %s FROM members_member",
            [segment_id],
        )
        cursor.execute("ANALYZE")
        # Write out the load's pages now, so the timed job does not pay for the load's checkpoint.
        cursor.execute("CHECKPOINT")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument("--orm-sample", type=int, default=100_000)
    parser.add_argument("--chunk", type=int, default=50_000)
    parser.add_argument("--workers", type=int, default=None, help="connections (default BULK_ISSUE_WORKERS)")
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("Set DATABASE_URL=postgres://... : this benchmark measures the PostgreSQL COPY path.")

    original = connection.settings_dict["NAME"]
    test_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        run(args)
    finally:
        connection.creation.destroy_test_db(original, verbosity=0)
    print(f"(database {test_name} dropped)")


def run(args) -> None:
    from coupons.issuance.bulk import bulk_issue_run
    from coupons.issuance.copy_binary import COLUMNS, issued_coupons_payload
    from coupons.models import BulkIssueJob, Coupon, CouponSeries
    from coupons.series.codes import series_generator
    from members.models import Segment
    from offers.models import Offer

    count = args.members
    segment = Segment.objects.create(code="bench", name="Bench")
    t0 = time.perf_counter()
    load_members(count, segment.pk)
    print(f"setup: {count:,} members loaded in {time.perf_counter() - t0:.1f} s (not timed below)")

    offer = Offer.objects.create(
        external_id="BENCH", name="Bench", expire_at=timezone.now() + timezone.timedelta(days=90)
    )
    series = CouponSeries.objects.create(
        offer=offer, name="Bench", code_mode="unique", code_length=10, code_charset="alphanumeric",
        expiry_mode="days_from_issue", expiry_days=30,
    )  # fmt: skip
    job = BulkIssueJob.objects.create(series=series, source="segment", segment=segment, chunk_size=args.chunk,
                                      actor="bench", channel="cli")  # fmt: skip

    started = time.perf_counter()
    job = bulk_issue_run(job_id=job.pk, actor=Actor.cli("bench"), workers=args.workers)
    job_seconds = time.perf_counter() - started
    assert job.issued == count, (job.issued, count)
    job_rate = count / job_seconds
    workers = args.workers or settings.BULK_ISSUE_WORKERS

    # The same job on one connection, into an emptied table and a fresh series.
    rows = list(Coupon.objects.filter(series=series).values_list("code", "member_id").iterator(chunk_size=100_000))
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE coupons_couponevent, coupons_coupon CASCADE")
        cursor.execute("CHECKPOINT")
    single_series = CouponSeries.objects.create(
        offer=offer, name="Bench one connection", code_mode="unique", code_length=10, code_charset="alphanumeric",
        expiry_mode="days_from_issue", expiry_days=30,
    )  # fmt: skip
    single = BulkIssueJob.objects.create(series=single_series, source="segment", segment=segment,
                                         chunk_size=args.chunk, actor="bench", channel="cli")  # fmt: skip
    started = time.perf_counter()
    single = bulk_issue_run(job_id=single.pk, actor=Actor.cli("bench"), workers=1)
    single_seconds = time.perf_counter() - started
    assert single.issued == count, (single.issued, count)
    single_rate = count / single_seconds

    # The first job's rows, prepared in memory, copied straight into the coupon table.
    now = timezone.now().isoformat()
    lines = [
        f"{series.pk}\t{code}\tf\t{member}\tissued\t{now}\t{now}\t{now}\tf\t{now}\t{now}\n" for code, member in rows
    ]
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE coupons_couponevent, coupons_coupon CASCADE")
    started = time.perf_counter()
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(
            "COPY coupons_coupon (series_id, code, is_common, member_id, status, issued_at, expires_at, "
            "redeemable_from, is_reversed, last_status_change_on, created_at) FROM STDIN"
        ) as copy,
    ):
        for i in range(0, len(lines), 50_000):
            copy.write("".join(lines[i : i + 50_000]))
    copy_seconds = time.perf_counter() - started
    copy_rate = count / copy_seconds
    del lines

    # The same rows again in PostgreSQL's binary COPY format (what the job sends), built before the clock starts.
    moment = timezone.now()
    payload = issued_coupons_payload(
        series_id=series.pk, codes=np.array([code for code, _ in rows], dtype="S"),
        member_ids=np.array([member for _, member in rows], dtype=np.int64), is_common=False, status="issued",
        issued_at=moment, expires_at=moment, redeemable_from=moment,
    )  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE coupons_couponevent, coupons_coupon CASCADE")
    started = time.perf_counter()
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY coupons_coupon ({COLUMNS}) FROM STDIN (FORMAT BINARY)") as copy,
    ):
        for i in range(0, len(payload), 1 << 16):
            copy.write(payload[i : i + (1 << 16)])
    binary_seconds = time.perf_counter() - started
    binary_rate = count / binary_seconds
    del payload

    # ORM bulk_create of a sample, codes from the same generator.
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE coupons_couponevent, coupons_coupon CASCADE")
    sample = min(args.orm_sample, count)
    generator = series_generator(series)
    member_ids = [member for _, member in rows[:sample]]
    moment = timezone.now()
    started = time.perf_counter()
    Coupon.objects.bulk_create(
        (
            Coupon(
                series=series,
                code=generator.code(n),
                member_id=member_ids[n],
                status="issued",
                issued_at=moment,
                expires_at=moment,
                redeemable_from=moment,
                last_status_change_on=moment,
                created_at=moment,
            )
            for n in range(sample)
        ),
        batch_size=5_000,
    )
    orm_seconds = time.perf_counter() - started
    orm_rate = sample / orm_seconds

    print(f"bulk issuance job : {count:>9,} coupons in {job_seconds:6.2f} s = {job_rate:>9,.0f} coupons/s "
          f"({job.chunks_done} chunks of {args.chunk:,} on {workers} connections)")  # fmt: skip
    print(f"  on one connection: {count:>8,} coupons in {single_seconds:6.2f} s = {single_rate:>9,.0f} coupons/s")
    print(f"plain COPY ceiling: {count:>9,} coupons in {copy_seconds:6.2f} s = {copy_rate:>9,.0f} coupons/s (text)")
    print(f"binary COPY       : {count:>9,} coupons in {binary_seconds:6.2f} s = {binary_rate:>9,.0f} coupons/s")
    print(f"ORM bulk_create   : {sample:>9,} coupons in {orm_seconds:6.2f} s = {orm_rate:>9,.0f} coupons/s "
          f"(extrapolated to {count:,}: {count / orm_rate:.1f} s)")  # fmt: skip
    print(f"job / job on one connection = {job_rate / single_rate:.2f}")
    print(f"job / COPY ceiling = {job_rate / copy_rate:.2f}   job / binary COPY = {job_rate / binary_rate:.2f}   "
          f"job / ORM bulk_create = {job_rate / orm_rate:.2f}x")  # fmt: skip
    print(f"target: {count:,} coupons in under 20 s of job time -> {'met' if job_seconds < 20 else 'NOT met'}")


if __name__ == "__main__":
    main()
