"""POS requests in one process, without a server: where a till request's time goes.

    .venv/bin/python bench/pos_inprocess.py [--requests 1500] [--no-key] [--offers 1000] [--profile redeem]
        [--pg postgres://…]

Loads the same data as bench/pos_redeem.py into a throwaway PostgreSQL database and calls the WSGI
application directly (the same app as the HTTP bench: the real URLs plus the bare DRF view and the plain
Django view of bench/pos_bare_wsgi.py), one request after another, with the API client cache on. Prints
wall and CPU milliseconds and SQL statements per request for each phase (the redeem phase sends an
Idempotency-Key on every request, as tills do; `--no-key` for the keyless figure); `--profile PHASE`
adds that phase's cProfile (sorted by cumulative time, or by what PROFILE_SORT names, e.g.
PROFILE_SORT=tottime). The transaction phase records purchases of a 20-line basket (2 lines that live
offers reward) with `--offers` live offers, made as bench/offers_membership_view.py makes them.
The first 50 requests of each phase warm up (and prepare the statements) and are not counted.
"""

import argparse
import cProfile
import io
import json
import os
import pstats
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import pos_redeem  # noqa: E402

WARM_UP = 50
PHASES = (
    ("bare", "/api/v1/bench/bare-redeem"),
    ("plain", "/api/v1/bench/plain-redeem"),
    ("validate", "/api/v1/coupons/validate"),
    ("redeem", "/api/v1/coupons/redeem"),
    ("transaction", "/api/v1/transactions"),
)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=1500, help="requests per phase")
    parser.add_argument("--offers", type=int, default=1000, help="live offers for the transaction phase")
    parser.add_argument("--no-key", action="store_true", help="redeem without an Idempotency-Key")
    parser.add_argument("--profile", choices=[name for name, _ in PHASES], help="print this phase's profile")
    parser.add_argument("--pg", default=os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432"))
    parser.add_argument("--db", help="the throwaway database's name (default: one named after this process)")
    return parser.parse_args()


def tasks_to_memory_broker() -> None:
    """Wake-ups go to an in-memory broker, as a message send costs in production; eager tasks would run the
    webhook dispatcher inside every redemption."""
    from config.celery import app as celery_app

    celery_app.conf.task_always_eager = False
    celery_app.conf.broker_url = "memory://"


def caller(application, token, keyed_paths=()):
    def call(path, body):
        raw = json.dumps(body).encode()
        environ = {
            "REQUEST_METHOD": "POST", "PATH_INFO": path, "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "80",
            "HTTP_HOST": "127.0.0.1", "wsgi.input": io.BytesIO(raw), "CONTENT_LENGTH": str(len(raw)),
            "CONTENT_TYPE": "application/json", "HTTP_AUTHORIZATION": f"Token {token}", "wsgi.url_scheme": "http",
        }  # fmt: skip
        if path in keyed_paths:
            environ["HTTP_IDEMPOTENCY_KEY"] = f"till-{body['code']}"
        status = []
        b"".join(application(environ, lambda line, headers: status.append(line)))
        return status[0]

    return call


class StatementCounter:
    """Counts the SQL statements the app sends (BEGIN and COMMIT are the driver's, not counted)."""

    def __init__(self):
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


def run(call, name, path, bodies, profile):
    from django.db import connection

    for body in bodies[:WARM_UP]:
        call(path, body)
    counted = bodies[WARM_UP:]
    profiler = cProfile.Profile() if profile else None
    statuses = {}
    counter = StatementCounter()
    connection.execute_wrappers.append(counter)
    wall, cpu = time.perf_counter(), time.process_time()
    if profiler:
        profiler.enable()
    for body in counted:
        status = call(path, body)
        statuses[status] = statuses.get(status, 0) + 1
    if profiler:
        profiler.disable()
    wall = (time.perf_counter() - wall) * 1000 / len(counted)
    cpu = (time.process_time() - cpu) * 1000 / len(counted)
    connection.execute_wrappers.remove(counter)
    statements = counter.count / len(counted)
    print(f"{name:<10} {wall:6.2f} ms wall   {cpu:6.2f} ms CPU   {statements:4.1f} statements per request   {statuses}")
    if profiler:
        pstats.Stats(profiler).sort_stats(os.environ.get("PROFILE_SORT", "cumulative")).print_stats(40)


def purchases(args, bodies):
    """One purchase per member of `bodies`, each basket 20 lines of which two SKUs live offers reward."""
    from bench.offers_membership_view import make_offers
    from members.models import Segment

    make_offers(args.offers, Segment.objects.create(code="bench", name="Bench"), 0)
    lines = [{"sku": f"PLAIN-{line}", "quantity": 1, "unit_price": "2.50"} for line in range(18)]
    return [
        {"transaction_id": f"IN-{n}", "member": body["member"], "store": body["store"], "total_amount": "50.00",
         "items": [{"sku": f"SKU-{n % 10}", "quantity": 1, "unit_price": "2.50"},
                   {"sku": f"SKU-{(n + 1) % 10}", "quantity": 1, "unit_price": "2.50"}, *lines]}
        for n, body in enumerate(bodies)
    ]  # fmt: skip


def main():
    args = parse_args()
    pg = args.pg.rstrip("/")
    name = args.db or f"od_bench_inproc_{os.getpid()}"
    pos_redeem.admin_sql(pg, f'CREATE DATABASE "{name}"')
    try:
        os.environ["API_CLIENT_CACHE_SECONDS"] = "30"
        # codes 0 … n-1 are validated then redeemed; the bare and plain views each get their own n codes
        n = args.requests
        token, bodies, _ = pos_redeem.setup_database(f"{pg}/{name}", 3 * n, 0)
        from django.conf import settings
        from django.db import connection

        settings.DEBUG = False
        settings.API_CLIENT_CACHE_SECONDS = 30
        tasks_to_memory_broker()
        connection.close()
        from bench.pos_bare_wsgi import application

        call = caller(application, token, keyed_paths=() if args.no_key else ("/api/v1/coupons/redeem",))
        codes = {"bare": bodies[n : 2 * n], "plain": bodies[2 * n : 3 * n], "transaction": purchases(args, bodies[:n])}
        for phase, path in PHASES:
            run(call, phase, path, codes.get(phase, bodies[:n]), profile=args.profile == phase)
    finally:
        from django.db import connections

        connections.close_all()
        pos_redeem.admin_sql(pg, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
