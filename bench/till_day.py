"""A till's day over HTTP: validate, redeem with keys, purchases and member offers at once, on a full program.

    .venv/bin/python bench/till_day.py [--coupons 1000000] [--offers 1000] [--seconds 20] [--connections 16]
        [--workers 2] [--threads 4] [--pg postgres://postgres@127.0.0.1:5432]

Creates a throwaway PostgreSQL database with `--coupons` members each holding one issued coupon (copied
in SQL from one row made by the ORM, so a million take seconds), `--offers` live offers (as
bench/offers_membership_view.py makes them: 20 of them reward SKU-0 … SKU-9, the rest SKUs no basket
sends), starts the app under granian as bench/pos_redeem.py does, and runs:

1. bare: the bare DRF view (bench/pos_bare_wsgi.py) on all `--connections`: the stack's ceiling now;
2. the day: four wrk processes at once, one per kind, with the connections shared 40/25/25/10:
   validate, redeem (an Idempotency-Key on each, distinct codes), `POST /transactions` (a 20-line basket
   matching 2 offers, distinct ids), and `GET /members/{id}/offers?page_size=500` (pages 1 and 2).

Every kind runs through bench/pos_wrk.lua. Prints each kind's requests/s, p50 and p99 (wrk's), the mix
as served, the total against the bare view, and the double redemptions found afterwards (must be 0).
The database is dropped at the end.
"""

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import pos_redeem  # noqa: E402

KINDS = (("validate", 0.40), ("redeem", 0.25), ("transaction", 0.25), ("offers", 0.10))
PATHS = {"validate": "/api/v1/coupons/validate", "redeem": "/api/v1/coupons/redeem",
         "transaction": "/api/v1/transactions", "offers": "/api/v1/members/"}  # fmt: skip


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--coupons", type=int, default=1_000_000, help="members, each with one issued coupon")
    parser.add_argument("--offers", type=int, default=1000, help="live offers")
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4, help="threads per worker (granian: blocking threads)")
    parser.add_argument("--port", type=int, default=8798)
    parser.add_argument("--pg", default=os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432"))
    return parser.parse_args()


def copy_rows(cursor, model, template_pk, count, replaced, joins=""):
    """Insert `count` copies of one row (numbered n = 1 … count), with some columns computed from n."""
    columns = [field.column for field in model._meta.concrete_fields if not field.primary_key]
    values = ", ".join(replaced.get(column, f't."{column}"') for column in columns)
    names = ", ".join(f'"{column}"' for column in columns)
    table = model._meta.db_table
    cursor.execute(
        f"INSERT INTO {table} ({names}) SELECT {values} FROM {table} t CROSS JOIN generate_series(1, %s) n "
        f"{joins} WHERE t.id = %s",
        [count, template_pk],
    )


def setup_database(db_url, coupons, offers):
    _, token, series = pos_redeem.till_setup(db_url)
    from datetime import date

    from django.db import connection
    from django.utils import timezone

    from bench.offers_membership_view import make_offers
    from coupons.models import Coupon
    from members.models import Member, Segment

    segment = Segment.objects.create(code="bench", name="Bench")
    template = Member.objects.create(external_id="TEMPLATE", email="t@example.com", birth_date=date(1990, 1, 1))
    now = timezone.now()
    coupon = Coupon.objects.create(series=series, code="TEMPLATE", member=template, status="issued", issued_at=now,
                                   redeemable_from=now, last_status_change_on=now)  # fmt: skip
    started = time.perf_counter()
    number = "lpad((n - 1)::text, {width}, '0')"
    with connection.cursor() as cursor:
        copy_rows(cursor, Member, template.pk, coupons, {
            "external_id": f"'B' || {number.format(width=7)}", "email": "'b' || n || '@example.com'",
        })  # fmt: skip
        copy_rows(cursor, Coupon, coupon.pk, coupons, {
            "code": f"'BENCH' || {number.format(width=8)}", "member_id": "m.id",
        }, joins=f"JOIN {Member._meta.db_table} m ON m.external_id = 'B' || {number.format(width=7)}")  # fmt: skip
        cursor.execute(
            f"INSERT INTO {Member.segments.through._meta.db_table} (member_id, segment_id) "
            f"SELECT id, %s FROM {Member._meta.db_table} WHERE id %% 2 = 0",
            [segment.pk],
        )
    make_offers(offers, segment, 0)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(f"loaded {coupons:,} members and coupons and {offers:,} offers in {time.perf_counter() - started:.1f} s")
    return token


def start_wrk(args, token, kind, connections, first, numbers):
    command = [
        "wrk", "-t", "1", "-c", str(connections), "-d", f"{args.seconds}s", "--timeout", "10s",
        "-s", str(ROOT / "bench/pos_wrk.lua"), f"http://127.0.0.1:{args.port}",
        "--", PATHS[kind], token, "S-BENCH", str(first), str(numbers), "1", "key" if kind == "redeem" else "",
    ]  # fmt: skip
    return subprocess.Popen(command, stdout=subprocess.PIPE, text=True)


def result_of(process):
    output = process.communicate()[0]
    return json.loads(output.split("RESULT ", 1)[1])


def main():
    args = parse_args()
    pg = args.pg.rstrip("/")
    name = f"od_bench_day_{os.getpid()}"
    db_url = f"{pg}/{name}"
    pos_redeem.admin_sql(pg, f'CREATE DATABASE "{name}"')
    server = None
    try:
        token = setup_database(db_url, args.coupons, args.offers)
        from django.db import connections

        connections.close_all()
        server = pos_redeem.start_server(db_url, args.port, args.workers, args.threads)
        load = os.getloadavg()[0]
        print(f"granian {args.workers} workers x {args.threads} threads, {args.connections} connections, "
              f"{args.seconds} s a phase; load average before {load:.2f}, {os.cpu_count()} CPUs")  # fmt: skip
        # Codes: the bare view takes the top quarter, redeems the next, validate the rest.
        quarter = args.coupons // 4
        bare_args = argparse.Namespace(**{**vars(args), "codes": args.coupons, "wrk_threads": 2})
        bare = pos_redeem.wrk_phase(bare_args, token, "/api/v1/bench/bare-redeem", first=0)
        bare_rate = pos_redeem.wrk_report("bare", bare)
        shares = [max(1, round(args.connections * share)) for _, share in KINDS]
        ranges = {"validate": (2 * quarter, quarter), "redeem": (quarter, quarter),
                  "transaction": (0, args.coupons), "offers": (0, args.coupons)}  # fmt: skip
        time.sleep(1)
        processes = [
            (kind, start_wrk(args, token, kind, connections, *ranges[kind]))
            for (kind, _), connections in zip(KINDS, shares, strict=True)
        ]
        results = {kind: result_of(process) for kind, process in processes}
        total = sum(result["requests"] for result in results.values())
        seconds = max(result["seconds"] for result in results.values())
        for (kind, _), share in zip(KINDS, shares, strict=True):
            result = results[kind]
            rate, mix = result["requests"] / result["seconds"], result["requests"] / total
            print(f"{kind:<12} {share:>2} conn. {rate:7.0f}/s ({mix:4.0%} of the mix)   p50 {result['p50_ms']:6.1f} ms"
                  f"   p99 {result['p99_ms']:6.1f} ms   statuses {result['statuses']}")  # fmt: skip
        day_rate = total / seconds
        print(f"the day: {day_rate:.0f} requests/s in all, {day_rate / bare_rate:.2f}x the bare view")
        doubles, _, rows, counter = pos_redeem.double_redemptions(db_url)
        print(f"redemption rows {rows}, series counter {counter}, double redemptions {doubles}")
        for kind, result in results.items():
            if result["requests"] > ranges[kind][1]:
                print(f"FAILED: {kind} ran out of distinct numbers; raise --coupons")
                return 1
        if doubles or counter != rows:
            print("FAILED: a code was redeemed more than once or the counts disagree")
            return 1
        return 0
    finally:
        pos_redeem.teardown(server, pg, name)


if __name__ == "__main__":
    sys.exit(main())
