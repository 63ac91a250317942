"""Growth: what the hot paths cost as the coupon table grows from 1M to 10M to 30M rows.

    .venv/bin/python bench/growth.py [--sizes 1000000,10000000,30000000] [--requests 1000] [--batch 100000]
        [--pg postgres://postgres@127.0.0.1:5432]

Creates a throwaway database, migrates it (the coupon tables are one plain table, or hash partitions with
PARTITION_LARGE_TABLES=true: coupons migration 0017), and loads one store, its POS client and the members the
measured requests name. Then, for each size, it grows the coupon table to that many rows with INSERT … SELECT
over generate_series (filler coupons of a filler series, issued, one filler member each, ascending codes;
VACUUM ANALYZE and a CHECKPOINT after, not timed), gives `--requests` fresh members five coupons each, and
times, through the real URLs and views in this process (the WSGI application of bench/pos_inprocess.py, one
request after another, the API client cache on):

1. validate: POST /api/v1/coupons/validate of each member's first coupon;
2. redeem: POST /api/v1/coupons/redeem of the same coupons, each with its own Idempotency-Key;
3. code lookup: GET /api/v1/coupons/<code> of each member's second coupon;
4. member's coupons: GET /api/v1/members/<id>/coupons (five rows each, at every size);
5. bulk issuance: a unique-code series issued to a fixed segment of `--batch` members (bulk_issue_run).

Prints milliseconds per request (with statements per request and the CPU milliseconds of this process and the
database's backends, which the machine's other load moves far less than wall time) or coupons per second at each
size, then the ratio of the largest size to the smallest for each figure (the target: within 1.3 times). The
database is dropped at the end. Disk: about 270 bytes a coupon with its indexes, so 30M rows take some 8 GB.
"""

import argparse
import io
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import pos_inprocess, pos_redeem  # noqa: E402

FILL_STEP = 1_000_000
FILLER_MEMBER_BASE = 1_000_000_000  # filler coupons name member ids no measured request uses
COUPONS_PER_MEMBER = 5
WARM_UP = 100


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000000,10000000,30000000", help="coupon table sizes, comma-separated")
    parser.add_argument("--requests", type=int, default=1000, help="requests per figure at each size")
    parser.add_argument("--batch", type=int, default=100_000, help="members of the bulk issuance at each size")
    parser.add_argument("--pg", default=os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432"))
    return parser.parse_args()


def getter(application, token):
    """GET through the WSGI application, as a POS client; returns the status line."""

    def get(path):
        environ = {
            "REQUEST_METHOD": "GET", "PATH_INFO": path, "QUERY_STRING": "", "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "80", "HTTP_HOST": "127.0.0.1", "HTTP_AUTHORIZATION": f"Token {token}",
            "wsgi.input": io.BytesIO(), "wsgi.url_scheme": "http",
        }  # fmt: skip
        status = []
        b"".join(application(environ, lambda line, headers: status.append(line)))
        return status[0]

    return get


def coupon_count():
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM coupons_coupon")
        return cursor.fetchone()[0]


def fill_to(size, filler_series_id):
    """Grow the coupon table to `size` rows in committed steps of a million; returns the seconds it took."""
    from django.db import connection

    started = time.perf_counter()
    have = coupon_count()
    with connection.cursor() as cursor:
        cursor.execute("SELECT coalesce(max(id), 0) FROM coupons_coupon")
        (offset,) = cursor.fetchone()
        while have < size:
            rows = min(FILL_STEP, size - have)
            # Filler codes ascend, so each partition's code index grows at its right edge: the fill runs several
            # times faster than with random codes, and the index has the depth of its row count either way.
            cursor.execute(
                """INSERT INTO coupons_coupon (series_id, code, is_common, member_id, status, issued_at, expires_at,
                       redeemable_from, is_reversed, last_status_change_on, created_at)
                SELECT %s, 'F' || lpad(n::text, 11, '0'), false, %s::bigint + n, 'issued', now(),
                       now() + interval '1 year', now(), false, now(), now()
                FROM generate_series(%s::bigint, %s::bigint) n""",
                [filler_series_id, FILLER_MEMBER_BASE, offset + 1, offset + rows],
            )
            offset += rows
            have += rows
        cursor.execute("VACUUM (ANALYZE) coupons_coupon")
        cursor.execute("CHECKPOINT")
    return time.perf_counter() - started


def measured_members(step, count, series):
    """`count` new members with COUPONS_PER_MEMBER coupons each; returns [(external_id, [codes])]."""
    from django.utils import timezone

    from coupons.models import Coupon
    from members.models import Member

    prefix = f"G{step}"
    Member.objects.bulk_create(
        Member(external_id=f"{prefix}-{n:06d}", email=f"{prefix.lower()}-{n}@example.com") for n in range(count)
    )
    members = dict(Member.objects.filter(external_id__startswith=f"{prefix}-").values_list("external_id", "pk"))
    now = timezone.now()
    coupons, plan = [], []
    for external_id, pk in sorted(members.items()):
        codes = [f"{prefix}{external_id[-6:]}X{k}" for k in range(COUPONS_PER_MEMBER)]
        plan.append((external_id, codes))
        coupons += [
            Coupon(series=series, code=code, member_id=pk, status="issued", issued_at=now, redeemable_from=now,
                   last_status_change_on=now)
            for code in codes
        ]  # fmt: skip
    Coupon.objects.bulk_create(coupons, batch_size=5000)
    return plan


# CPU of this process (the app) and of the database's backends: what a request costs, which the machine's other
# load moves far less than its wall time. Set by main() once the database exists.
CPU_METER = None
CPU = {}  # figure → CPU ms per call (app + database), filled by timed()


def timed(name, calls, counter_target, figure=None):
    """Run `calls` (warm-up first); returns (ms per call, statements per call). Its CPU goes to CPU[figure]."""
    from django.db import connection

    for call in calls[:WARM_UP]:
        call()
    counted = calls[WARM_UP:]
    counter = pos_inprocess.StatementCounter()
    connection.execute_wrappers.append(counter)
    statuses = {}
    app_before, db_before = CPU_METER.sample()
    started = time.perf_counter()
    for call in counted:
        status = call()
        statuses[status] = statuses.get(status, 0) + 1
    elapsed = time.perf_counter() - started
    app_after, db_after = CPU_METER.sample()
    connection.execute_wrappers.remove(counter)
    CPU[figure or name] = ((app_after - app_before) + (db_after - db_before)) * 1000 / len(counted)
    ok = sum(count for status, count in statuses.items() if status.startswith(counter_target))
    if ok != len(counted):
        print(f"  {name}: unexpected answers {statuses}")
    return elapsed * 1000 / len(counted), counter.count / len(counted)


def bulk_issue(step, segment, offer):
    from config.actors import Actor
    from coupons.issuance.bulk import bulk_issue_run
    from coupons.models import BulkIssueJob, CouponSeries

    series = CouponSeries.objects.create(
        offer=offer, name=f"Growth batch {step}", code_mode="unique", code_length=12, code_charset="alphanumeric",
        expiry_mode="days_from_issue", expiry_days=30,
    )  # fmt: skip
    job = BulkIssueJob.objects.create(series=series, source="segment", segment=segment, chunk_size=50_000,
                                      actor="bench", channel="cli")  # fmt: skip
    started = time.perf_counter()
    job = bulk_issue_run(job_id=job.pk, actor=Actor.cli("bench"))
    seconds = time.perf_counter() - started
    return job.issued / seconds, job.issued


def batch_segment(count):
    from django.db import connection

    from members.models import Segment

    segment = Segment.objects.create(code="growth-batch", name="Growth batch")
    with connection.cursor() as cursor:
        cursor.execute(
            """INSERT INTO members_member (external_id, email, mobile, user_id, first_name, last_name, registered_at,
                   status, transaction_count, points_balance)
            SELECT 'BATCH-' || n, '', '', '', '', '', now(), 'active', 0, 0 FROM generate_series(1, %s::bigint) n""",
            [count],
        )
        cursor.execute(
            "INSERT INTO members_member_segments (member_id, segment_id) "
            "SELECT id, %s FROM members_member WHERE external_id LIKE 'BATCH-%%'",
            [segment.pk],
        )
    return segment


FIGURES = (
    ("validate", "ms"),
    ("redeem (key)", "ms"),
    ("code lookup", "ms"),
    ("member's coupons", "ms"),
    ("bulk issuance", "coupons/s"),
)


def buffers_read(sql, params) -> int:
    """Shared buffers (hit or read) one run of `sql` touches: a figure the machine's load does not change."""
    import json

    from django.db import connection
    from psycopg import ClientCursor

    with connection.cursor() as cursor:
        statement = ClientCursor(connection.connection).mogrify(sql, params)
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + statement)
        (plan,) = cursor.fetchone()
    plan = (json.loads(plan) if isinstance(plan, str) else plan)[0]["Plan"]
    return plan.get("Shared Hit Blocks", 0) + plan.get("Shared Read Blocks", 0)


def buffer_figures(member_external_id, code):
    """Buffers of the till's coupon read, the code lookup and a member's coupons, for one measured member."""
    from coupons.models import Coupon
    from coupons.redemption import statements as till
    from coupons.selectors import code_lookup, member_coupons
    from members.models import Member

    member = Member.objects.get(external_id=member_external_id)
    return {
        "till's coupon read": buffers_read(till.COUPON_SQL, [code, code, member.pk, code, code]),
        "code lookup": buffers_read(
            *Coupon.objects.filter(code_lookup(code)).order_by("-id")[:1].query.sql_with_params()
        ),
        "member's coupons": buffers_read(*member_coupons(member=member).query.sql_with_params()),
    }


def measure(step, size, args, series, store, segment, post, get):
    plan = measured_members(step, args.requests, series)
    bodies = [
        {"code": codes[0], "member": member, "store": store.code, "bill_amount": "42.00"} for member, codes in plan
    ]
    figures = {}
    CPU.clear()
    figures["validate"] = timed("validate", [lambda b=b: post("/api/v1/coupons/validate", b) for b in bodies], "200")
    figures["redeem (key)"] = timed("redeem", [lambda b=b: post("/api/v1/coupons/redeem", b) for b in bodies], "201",
                                    "redeem (key)")  # fmt: skip
    figures["code lookup"] = timed(
        "code lookup", [lambda c=codes[1]: get(f"/api/v1/coupons/{c}") for _, codes in plan], "200"
    )
    figures["member's coupons"] = timed(
        "member's coupons", [lambda m=member: get(f"/api/v1/members/{m}/coupons") for member, _ in plan], "200"
    )
    figures["cpu"] = dict(CPU)
    member, codes = plan[-1]
    buffers = buffer_figures(member, codes[2])
    rate, issued = bulk_issue(step, segment, series.offer)
    figures["bulk issuance"] = (rate, None)
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    print(f"{size:>11,} coupons ({coupon_count():,} after the batch of {issued:,}; load average {load}):")
    for name, unit in FIGURES:
        value, statements = figures[name]
        per = f"   {statements:4.1f} statements" if statements is not None else ""
        cpu = f"   {figures['cpu'][name]:6.2f} ms CPU (app + database)" if name in figures["cpu"] else ""
        line = (
            f"    {name:<18} {value:10.2f} {unit}{per}{cpu}"
            if unit == "ms"
            else f"    {name:<18} {value:10,.0f} {unit}"
        )
        print(line)
    for name, count in buffers.items():
        print(f"    buffers, {name:<20} {count:4d}")
    figures["buffers"] = buffers
    return figures


def main():
    args = parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    pg = args.pg.rstrip("/")
    name = f"od_bench_growth_{os.getpid()}"
    pos_redeem.admin_sql(pg, f'CREATE DATABASE "{name}"')
    try:
        os.environ["API_CLIENT_CACHE_SECONDS"] = "30"
        store, token, series = pos_redeem.till_setup(f"{pg}/{name}")
        from django.conf import settings
        from django.db import connection

        from config.partitioning import is_partitioned
        from coupons.models import CouponSeries

        settings.DEBUG = False
        settings.API_CLIENT_CACHE_SECONDS = 30
        pos_inprocess.tasks_to_memory_broker()
        global CPU_METER
        CPU_METER = pos_redeem.CpuMeter(os.getpid(), name)
        with connection.cursor() as cursor:
            layout = "hash partitions" if is_partitioned(cursor, "coupons_coupon") else "one plain table"
        print(f"coupon table: {layout}; {args.requests} requests per figure ({WARM_UP} of them warm-up)")
        filler = CouponSeries.objects.create(offer=series.offer, name="Filler", code_mode="upload")
        segment = batch_segment(args.batch)
        from bench.pos_bare_wsgi import application

        post = pos_inprocess.caller(application, token, keyed_paths=("/api/v1/coupons/redeem",))
        get = getter(application, token)
        results = {}
        for step, size in enumerate(sizes):
            seconds = fill_to(size, filler.pk)
            print(f"(filled to {size:,} coupons in {seconds:.0f} s, not timed below)")
            results[size] = measure(step, size, args, series, store, segment, post, get)
        first, last = sizes[0], sizes[-1]
        print(f"\nratio {last:,} / {first:,} (cost; for bulk issuance, time per coupon; target within 1.3):")
        for figure, unit in FIGURES:
            before, after = results[first][figure][0], results[last][figure][0]
            ratio = after / before if unit == "ms" else before / after
            print(f"    {figure:<18} {ratio:5.2f}")
        for name, cpu in results[last]["cpu"].items():
            print(f"    CPU, {name:<23} {cpu / results[first]['cpu'][name]:5.2f}")
        for name, count in results[last]["buffers"].items():
            print(f"    buffers, {name:<20} {count / results[first]['buffers'][name]:5.2f}")
    finally:
        from django.db import connections

        connections.close_all()
        pos_redeem.admin_sql(pg, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
