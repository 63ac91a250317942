"""The till's basket in one process, without a server: where an evaluate, a checkout, its commit and a purchase
spend their time.

    .venv/bin/python bench/baskets_inprocess.py [--requests 300] [--offers 1000] [--profile evaluate]
        [--pg postgres://postgres@127.0.0.1:5432]

Loads the data of bench/baskets.py (`--offers` live earning offers, three coupon series, three coupons per
member) into a throwaway PostgreSQL database and calls the WSGI application directly, one request after
another, for each phase:

1. evaluate: POST /baskets/evaluate, 30 lines and the member's three coupons;
2. checkout: POST /checkouts with the same basket, a fresh member each time;
3. commit: POST /checkouts/{id}/commit of those checkouts, with an Idempotency-Key;
4. transaction: POST /transactions, a 20-line basket (the first 20 lines of the evaluate basket).

Prints wall and CPU milliseconds and SQL statements per request (CPU does not depend on the machine's load
the way wall time does); `--profile PHASE` adds that phase's cProfile (cumulative, or PROFILE_SORT=tottime);
`--sql` the statements of one request of each phase. The first 50 requests of each phase warm up and are not
counted, so `--requests` must be above 50.
"""

import argparse
import gc
import io
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import (  # noqa: E402
    baskets,
    pos_inprocess,
    pos_redeem,
)

PHASES = ("evaluate", "checkout", "commit", "transaction")


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=300, help="requests per phase")
    parser.add_argument("--offers", type=int, default=1000)
    parser.add_argument("--profile", choices=PHASES, help="print this phase's profile")
    parser.add_argument("--sql", action="store_true", help="print the statements of each phase's last request")
    parser.add_argument("--pg", default=os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432"))
    return parser.parse_args()


def caller(application, token):
    def call(path, body, key=None):
        raw = b"" if body is None else json.dumps(body).encode()
        environ = {
            "REQUEST_METHOD": "POST", "PATH_INFO": path, "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "80",
            "HTTP_HOST": "127.0.0.1", "wsgi.input": io.BytesIO(raw), "CONTENT_LENGTH": str(len(raw)),
            "CONTENT_TYPE": "application/json", "HTTP_AUTHORIZATION": f"Token {token}", "wsgi.url_scheme": "http",
        }  # fmt: skip
        if key:
            environ["HTTP_IDEMPOTENCY_KEY"] = key
        status = []
        content = b"".join(application(environ, lambda line, headers: status.append(line)))
        return status[0], content

    return call


class Pauses:
    """The collector's passes while installed (`gc.callbacks`): how many of each generation and how long they took,
    and each request's wall time, to tell a tail the collector makes from one the database or the load makes."""

    def __init__(self):
        self.passes = {0: [], 1: [], 2: []}
        self.requests = []
        self._started = None

    def __call__(self, phase, info):
        if phase == "start":
            self._started = time.perf_counter()
        elif self._started is not None:
            self.passes[info["generation"]].append(time.perf_counter() - self._started)

    def timed(self, job, warm_up: int):
        def call():
            if len(self.requests) == warm_up:  # the warm-up's passes (the offer index's loading) are not counted
                self.passes = {0: [], 1: [], 2: []}
            started = time.perf_counter()
            try:
                return job()
            finally:
                self.requests.append(time.perf_counter() - started)

        return call

    def report(self, warm_up):
        requests = sorted(self.requests[warm_up:])
        if not requests:
            return
        p99 = requests[min(len(requests) - 1, int(len(requests) * 0.99))] * 1000
        passes = ", ".join(
            f"gen{generation} {len(times)} x {1000 * sum(times) / max(len(times), 1):.2f} ms "
            f"(max {1000 * max(times, default=0):.2f})"
            for generation, times in self.passes.items()
        )
        print(f"{'':<10} wall p50 {requests[len(requests) // 2] * 1000:.2f} ms, p99 {p99:.2f} ms, max "
              f"{requests[-1] * 1000:.2f} ms; collector: {passes}")  # fmt: skip


def run(name, jobs, profile, sql=False):
    """`jobs` are callables returning an HTTP status line, timed as bench/pos_inprocess.py times its requests;
    with `sql`, the statements of one more job are printed. Then each request's wall p50/p99/max and the
    collector's passes after the warm-up."""
    from django.db import connection

    counted = jobs[:-1] if sql else jobs
    pauses = Pauses()
    gc.callbacks.append(pauses)
    try:
        pos_inprocess.run(
            lambda path, job: job(), name, None, [pauses.timed(job, pos_inprocess.WARM_UP) for job in counted], profile
        )
    finally:
        gc.callbacks.remove(pauses)
    pauses.report(pos_inprocess.WARM_UP)
    if sql:
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as captured:
            jobs[-1]()
        for query in captured.captured_queries:
            print(f"    {query['sql'][:300]}")


def main():
    args = parse_args()
    pg = args.pg.rstrip("/")
    name = f"od_bench_baskets_inproc_{os.getpid()}"
    pos_redeem.admin_sql(pg, f'CREATE DATABASE "{name}"')
    try:
        os.environ["API_CLIENT_CACHE_SECONDS"] = "30"
        n = args.requests
        setup = argparse.Namespace(requests=n, members=n, pairs=n, offers=args.offers)
        token, _, evaluations, checkouts = baskets.setup_database(f"{pg}/{name}", setup)
        from django.conf import settings
        from django.db import connection

        settings.DEBUG = False
        settings.API_CLIENT_CACHE_SECONDS = 30
        from config.celery import app as celery_app

        celery_app.conf.task_always_eager = False
        celery_app.conf.broker_url = "memory://"
        connection.close()
        from bench.pos_bare_wsgi import application

        call = caller(application, token)
        print(f"{args.offers} live offers, {baskets.LINES} lines, 3 coupons; load average {os.getloadavg()[0]:.2f}")
        opened = []

        def evaluate(body):
            return lambda: call("/api/v1/baskets/evaluate", body)[0]

        def checkout(body):
            def job():
                status, content = call("/api/v1/checkouts", body)
                opened.append((body["transaction_id"], json.loads(content)["id"]))
                return status

            return job

        def commit(transaction_id, pk):
            return lambda: call(f"/api/v1/checkouts/{pk}/commit", None, key=f"commit-{transaction_id}")[0]

        def purchase(n, body):
            items = [{key: line[key] for key in ("sku", "quantity", "unit_price")} for line in body["lines"][:20]]
            total = sum(line["quantity"] * float(line["unit_price"]) for line in items)
            payload = {"transaction_id": f"TX-{n}", "member": body["member"], "store": body["store"],
                       "total_amount": f"{total:.2f}", "items": items}  # fmt: skip
            return lambda: call("/api/v1/transactions", payload)[0]

        run("evaluate", [evaluate(body) for body in evaluations], args.profile == "evaluate", args.sql)
        run("checkout", [checkout(body) for body in checkouts], args.profile == "checkout", args.sql)
        run("commit", [commit(*pair) for pair in opened], args.profile == "commit", args.sql)
        purchases = [purchase(n, body) for n, body in enumerate(evaluations)]
        run("transaction", purchases, args.profile == "transaction", args.sql)
    finally:
        from django.db import connections

        connections.close_all()
        pos_redeem.admin_sql(pg, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
