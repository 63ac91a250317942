"""Benchmark: one offline batch judged set-based, against the row-at-a-time path on a sample of the same run.

Runs in a throw-away database of its own on whatever DATABASE_URL points at (SQLite in memory by default):

    DATABASE_URL=postgres://... .venv/bin/python bench/offline_batch.py [--rows 100000] [--baseline-rows 2000]
        [--http-rows 100000]

Prints, for `offline_batch_record` over a batch of `--rows` one-time coupons (every row accepted): the seconds
(wall), the process's CPU seconds, rows/s and the statements it ran; then the same batch again (the replay). The
baseline, measured in the same run over `--baseline-rows` other coupons of the same series, is the row-at-a-time
path the set-based one replaced (tests/till/offline/reference_offline.py: `coupon_redeem` for each row, in the
order the rows happened); the ratio is rows/s against rows/s. Then `--http-rows` other rows go once through
`POST /api/v1/offline-redemptions` (Django's test client: the JSON body, the API's parsing, the answer; 0 skips it).

Wall seconds depend on what else the machine runs; CPU seconds and statement counts do not, or much less: quote the
load average (`uptime`) beside the figures.
"""

import argparse
import json
import os
import sys
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.development")
# The outbox's kicks are queued, as on a server, instead of delivering webhooks inside the timed work.
os.environ.setdefault("CELERY_BROKER_URL", "memory://")
# DEBUG off, as on a server: with it on, every statement's parameters are quoted into the query log (seconds of
# CPU for a batch's array parameters), which a server never pays. Statements are counted by an execute wrapper.
os.environ.setdefault("DEBUG", "False")

import django
import psycopg

django.setup()

from django.db import connection  # noqa: E402


def backend_cpu() -> float:
    """The CPU seconds the database's backend of this connection has used (PostgreSQL on this host; 0 elsewhere)."""
    if connection.vendor != "postgresql":
        return 0.0
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def timed(work):
    backend = backend_cpu()
    started, cpu = time.perf_counter(), time.process_time()
    statements = []
    originals = {name: getattr(psycopg.Cursor, name) for name in ("execute", "executemany", "copy")}

    def counting(name):
        def call(self, *args, **kwargs):
            statements.append(name)
            return originals[name](self, *args, **kwargs)

        return call

    # Counted at the driver, COPY included (Django's execute wrappers do not see it); COMMITs are not counted.
    for name in originals:
        setattr(psycopg.Cursor, name, counting(name))
    try:
        result = work()
    finally:
        for name, original in originals.items():
            setattr(psycopg.Cursor, name, original)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    timed.backend = backend_cpu() - backend
    return result, seconds, cpu, len(statements)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--baseline-rows", type=int, default=2_000)
    parser.add_argument("--http-rows", type=int, default=100_000)
    args = parser.parse_args()

    connection.settings_dict.setdefault("TEST", {})["NAME"] = f"bench_offline_{os.getpid()}"
    if connection.vendor == "sqlite":
        connection.settings_dict["TEST"]["NAME"] = ":memory:"
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        from django.test import Client
        from django.utils import timezone

        from config.actors import Actor
        from config.api.roles import Role
        from config.api.services import api_client_create
        from coupons.models import Coupon, CouponSeries
        from members.models import Member, OrgEntity
        from offers.models import Offer
        from tests.till.offline.reference_offline import reference_batch_record
        from till.offline.services import OfflineRow, offline_batch_record

        store = OrgEntity.objects.create(code="S-BENCH", type="store", name="Bench store")
        member = Member.objects.create(external_id="BENCH-1")
        expire_at = timezone.now() + timedelta(days=9)
        offer = Offer.objects.create(external_id="OFF-BENCH", name="Bench", expire_at=expire_at)
        series = CouponSeries.objects.create(
            offer=offer, name="Bench", code_mode="unique", code_length=10, code_charset="alphanumeric",
            discount_type="fixed", discount_value=5, discount_currency="USD", expiry_mode="with_offer",
        )  # fmt: skip
        now = timezone.now()
        total = args.rows + args.baseline_rows + args.http_rows
        for start in range(0, total, 50_000):
            Coupon.objects.bulk_create(
                Coupon(series=series, code=f"OFF{n:08d}", member=member, status="issued", issued_at=now)
                for n in range(start, min(total, start + 50_000))
            )
        at = now - timedelta(hours=1)
        actor = Actor.system("bench")

        def rows_of(first, count):
            return [
                OfflineRow(f"OFF{n:08d}", member.external_id, at + timedelta(microseconds=n), Decimal("20.00"))
                for n in range(first, first + count)
            ]

        sample = rows_of(args.rows, args.baseline_rows)
        body, seconds, cpu, _ = timed(lambda: reference_batch_record(batch_id="B-REF", store=store, rows=sample,
                                                                    actor=actor))  # fmt: skip
        assert len(body["accepted"]) == args.baseline_rows, body["rejected"][:3]
        baseline = args.baseline_rows / seconds
        print(f"database: {connection.vendor}")
        print(f"baseline, row at a time ({args.baseline_rows:,} rows): {seconds:.1f} s, {baseline:,.0f} rows/s, "
              f"{cpu / args.baseline_rows * 1e6:,.0f} µs CPU a row")  # fmt: skip

        rows = rows_of(0, args.rows)
        (batch, _), seconds, cpu, statements = timed(
            lambda: offline_batch_record(batch_id="B-BENCH", store=store, rows=rows, actor=actor)
        )
        assert batch.accepted_count == args.rows, batch.rejected_count
        print(f"set-based batch ({args.rows:,} rows): {seconds:.1f} s, {cpu:.1f} s CPU "
              f"({cpu / args.rows * 1e6:,.0f} µs a row), {args.rows / seconds:,.0f} rows/s, "
              f"{args.rows / seconds / baseline:.1f}x the baseline, {statements} statements, "
              f"database backend {timed.backend:.1f} s CPU")  # fmt: skip

        (replay, created), seconds, cpu, statements = timed(
            lambda: offline_batch_record(batch_id="B-BENCH", store=store, rows=rows, actor=actor)
        )
        assert not created and replay.pk == batch.pk
        print(f"the same batch again (replay): {seconds:.2f} s, {statements} statements")

        if args.http_rows:
            _client, token = api_client_create(name="bench-till", role=Role.POS, actor=actor, store_codes=[store.code])
            first = args.rows + args.baseline_rows
            payload = json.dumps({
                "batch_id": "B-HTTP", "store": store.code,
                "redemptions": [{"code": f"OFF{n:08d}", "member": member.external_id,
                                 "redeemed_at": (at + timedelta(microseconds=n)).isoformat(), "bill_amount": "20.00"}
                                for n in range(first, first + args.http_rows)],
            })  # fmt: skip
            http = Client(HTTP_AUTHORIZATION=f"Token {token}")
            response, seconds, cpu, statements = timed(
                lambda: http.post("/api/v1/offline-redemptions", payload, content_type="application/json")
            )
            assert response.status_code == 200, response.content[:300]
            assert len(response.json()["accepted"]) == args.http_rows
            print(f"over HTTP ({args.http_rows:,} rows, a {len(payload) / 1e6:.1f} MB body): {seconds:.1f} s, "
                  f"{cpu:.1f} s CPU, {args.http_rows / seconds:,.0f} rows/s, {statements} statements, "
                  f"database backend {timed.backend:.1f} s CPU")  # fmt: skip
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
