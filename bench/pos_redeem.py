"""POS throughput: validate and redeem distinct coupon codes over HTTP, under gunicorn, on PostgreSQL.

    .venv/bin/python bench/pos_redeem.py [--codes 6000] [--clients 16] [--workers 4] [--threads 4]
        [--pg postgres://postgres@127.0.0.1:5432]

Creates a throwaway database, migrates it, loads one store, one POS client, members and one issued
coupon per member, then starts the app under gunicorn with `config.settings.production` on loopback.
Client threads (persistent http.client connections) then run, in order:

1. bare — a bare DRF view (token auth, one conditional UPDATE; bench/pos_bare_wsgi.py) redeeming its
   own distinct codes: the ceiling of the stack on this machine at this moment;
2. validate — every code validated once;
3. redeem — every code redeemed once, each by exactly one client (distinct codes);
4. contended — a few codes each raced by every client at once (exactly one 201 per code expected).

Prints requests/s and p50/p99 latency per phase, the ratios to the bare view, and the double
redemptions found afterwards in SQL (must be 0). The database is dropped at the end.
"""

import argparse
import http.client
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--codes", type=int, default=6000)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--contended-codes", type=int, default=50)
    parser.add_argument("--port", type=int, default=8799)
    parser.add_argument("--pg", default=os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432"))
    return parser.parse_args()


def admin_sql(pg_url, sql):
    import psycopg

    with psycopg.connect(f"{pg_url}/postgres", autocommit=True) as conn:
        conn.execute(sql)


def setup_database(db_url, codes, contended):
    os.environ["DATABASE_URL"] = db_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
    import django

    django.setup()
    from django.core.management import call_command
    from django.utils import timezone

    from config.api.services import api_client_create
    from coupons.models import Coupon, CouponSeries
    from members.models import Member, OrgEntity
    from offers.models import Offer

    call_command("migrate", verbosity=0)
    store = OrgEntity.objects.create(code="S-BENCH", type="store", name="Bench store", currency="USD")
    _, token = api_client_create(name="bench-pos", role="pos", store_codes=[store.code])
    offer = Offer.objects.create(
        external_id="BENCH", name="Bench", expire_at=timezone.now() + timezone.timedelta(days=30)
    )
    series = CouponSeries.objects.create(
        offer=offer, name="Bench", code_mode="upload", discount_type="percentage", discount_value=10,
        min_bill=1, max_bill=10_000,
    )  # fmt: skip
    total = 2 * codes + contended
    Member.objects.bulk_create(Member(external_id=f"B{n:07d}", email=f"b{n}@example.com") for n in range(total))
    members = dict(Member.objects.filter(external_id__startswith="B").values_list("external_id", "pk"))
    now = timezone.now()
    Coupon.objects.bulk_create(
        Coupon(series=series, code=f"BENCH{n:08d}", member_id=members[f"B{n:07d}"], status="issued", issued_at=now,
               redeemable_from=now, last_status_change_on=now)
        for n in range(total)
    )  # fmt: skip
    with django.db.connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    bodies = [
        {"code": f"BENCH{n:08d}", "member": f"B{n:07d}", "store": store.code, "bill_amount": "42.00"}
        for n in range(total)
    ]
    return token, bodies[:codes], bodies[codes : 2 * codes], bodies[2 * codes :]


def start_server(db_url, port, workers, threads):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DATABASE_URL": f"{db_url}?conn_max_age=600",
        "SECRET_KEY": "bench-only-secret-key-not-for-production-use-0123456789",
        "ALLOWED_HOSTS": "127.0.0.1",
        "DEBUG": "false",
        "LOG_LEVEL": "ERROR",
        "API_CLIENT_CACHE_SECONDS": os.environ.get("API_CLIENT_CACHE_SECONDS", "30"),
        "CELERY_BROKER_URL": "",
    }
    command = [
        str(ROOT / ".venv/bin/gunicorn"), "bench.pos_bare_wsgi:application", "--bind", f"127.0.0.1:{port}",
        "--workers", str(workers), "--threads", str(threads), "--worker-class", "gthread",
        "--keep-alive", "30", "--log-level", "warning",
    ]  # fmt: skip
    server = subprocess.Popen(command, cwd=ROOT, env=env)
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/api/v1/coupon-series")
            conn.getresponse().read()
            return server
        except OSError:
            time.sleep(0.2)
    server.kill()
    raise SystemExit("gunicorn did not start")


def run_phase(port, token, path, jobs, clients):
    """Each client thread takes jobs from a shared list; returns (seconds, latencies, status counts)."""
    lock = threading.Lock()
    queue = list(reversed(jobs))
    latencies, statuses = [], {}
    barrier = threading.Barrier(clients + 1)

    def client():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        headers = {"Authorization": f"Token {token}", "Content-Type": "application/json", "Connection": "keep-alive"}
        mine, codes = [], {}
        barrier.wait()
        while True:
            with lock:
                if not queue:
                    break
                body = queue.pop()
            started = time.perf_counter()
            conn.request("POST", path, body=json.dumps(body), headers=headers)
            response = conn.getresponse()
            response.read()
            mine.append(time.perf_counter() - started)
            codes[response.status] = codes.get(response.status, 0) + 1
        conn.close()
        with lock:
            latencies.extend(mine)
            for status, count in codes.items():
                statuses[status] = statuses.get(status, 0) + count

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started, latencies, statuses


def report(name, seconds, latencies, statuses):
    quantiles = statistics.quantiles(latencies, n=100)
    rate = len(latencies) / seconds
    print(f"{name:<10} {len(latencies):>6} requests in {seconds:6.2f} s = {rate:7.0f}/s   "
          f"p50 {quantiles[49] * 1000:6.1f} ms   p99 {quantiles[98] * 1000:6.1f} ms   statuses {statuses}")  # fmt: skip
    return rate


def double_redemptions(db_url):
    import psycopg

    with psycopg.connect(db_url) as conn:
        doubles = conn.execute(
            "SELECT count(*) FROM (SELECT coupon_id FROM coupons_couponredemption WHERE NOT is_reversed "
            "GROUP BY coupon_id HAVING count(*) > 1) d"
        ).fetchone()[0]
        redeemed = conn.execute("SELECT count(*) FROM coupons_coupon WHERE status = 'redeemed'").fetchone()[0]
        rows = conn.execute("SELECT count(*) FROM coupons_couponredemption").fetchone()[0]
        counter = conn.execute("SELECT redeemed_count FROM coupons_couponseries").fetchone()[0]
    return doubles, redeemed, rows, counter


def main():
    args = parse_args()
    pg = args.pg.rstrip("/")
    name = f"od_bench_pos_{os.getpid()}"
    db_url = f"{pg}/{name}"
    admin_sql(pg, f'CREATE DATABASE "{name}"')
    server = None
    try:
        token, bodies, bare_bodies, contended = setup_database(db_url, args.codes, args.contended_codes)
        from django.db import connections

        connections.close_all()
        server = start_server(db_url, args.port, args.workers, args.threads)
        load = os.getloadavg()[0]
        print(f"gunicorn {args.workers} workers x {args.threads} threads, {args.clients} clients, "
              f"{args.codes} distinct codes, load average before {load:.2f}, {os.cpu_count()} CPUs")  # fmt: skip
        run_phase(args.port, token, "/api/v1/coupons/validate", bodies[:200], args.clients)  # warm up
        bare_rate = report("bare", *run_phase(args.port, token, "/bench/bare-redeem", bare_bodies, args.clients))
        validate_rate = report("validate", *run_phase(args.port, token, "/api/v1/coupons/validate", bodies,
                                                      args.clients))  # fmt: skip
        redeem_rate = report("redeem", *run_phase(args.port, token, "/api/v1/coupons/redeem", bodies, args.clients))
        raced = [body for body in contended for _ in range(args.clients)]
        seconds, latencies, statuses = run_phase(args.port, token, "/api/v1/coupons/redeem", raced, args.clients)
        report("contended", seconds, latencies, statuses)
        print(f"throughput ratios: redeem/bare {redeem_rate / bare_rate:.2f}, validate/bare "
              f"{validate_rate / bare_rate:.2f}, redeem/validate {redeem_rate / validate_rate:.2f}")  # fmt: skip
        doubles, redeemed, rows, counter = double_redemptions(db_url)
        expected = 2 * args.codes + args.contended_codes
        print(f"coupons redeemed {redeemed} of {expected} ({args.codes} by the bare view), redemption rows {rows}, "
              f"series counter {counter}, double redemptions {doubles}")  # fmt: skip
        if doubles or rows != redeemed - args.codes or counter != rows or statuses.get(201) != args.contended_codes:
            print("FAILED: a code was redeemed more than once or the counts disagree")
            return 1
        return 0
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=20)
        from django.db import connections

        connections.close_all()
        admin_sql(pg, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    sys.exit(main())
