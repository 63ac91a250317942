"""Per-core figures of the hot paths: requests or rows per CPU-second of the app and of the database, apart.

    .venv/bin/python bench/per_core.py [--codes 3000] [--clients 8] [--rows 200000] [--workers 2] [--threads 4]
        [--pg postgres://postgres@127.0.0.1:5432]

A fleet is sized from CPU time, not from wall time on a shared machine: each figure is the work done divided by
the CPU seconds spent on it, read from /proc/<pid>/stat of the app's processes (the granian server and its
workers, or this process for the in-process paths) and of this database's PostgreSQL backends. The load
generator's own CPU is counted in neither, so the two cores being shared with it (and with anything else running)
changes the wall-clock figures, much less these.

Uses bench/pos_redeem.py's set-up (a throwaway database, one store, a POS client, one issued coupon per member,
granian with production settings on loopback) and then, over HTTP with keep-alive Python clients:
1. bare: the bare DRF redeem view (bench/pos_bare_wsgi.py), the baseline every HTTP ratio is against;
2. validate, 3. redeem with an Idempotency-Key on every request, 4. a member's coupons (GET, the till's read);
and in this process, with bench/coupons_bulk_issue.py's member load:
5. bulk issuance on one connection (rows per core-second), 6. an export of the members (COPY TO STDOUT),
each against a plain COPY FROM STDIN of as many narrow rows, the row paths' baseline.
The database is dropped at the end.
"""

import argparse
import http.client
import io
import json
import os
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import pos_redeem  # noqa: E402


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--codes", type=int, default=3_000, help="distinct codes (and requests) per HTTP phase")
    parser.add_argument("--clients", type=int, default=8, help="client threads, one keep-alive connection each")
    parser.add_argument("--rows", type=int, default=200_000, help="members issued to and exported")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--port", type=int, default=8798)
    parser.add_argument("--pg", default=os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432"))
    return parser.parse_args()


def requests_phase(port, token, requests, clients):
    """Send (method, path, body, headers) requests from `clients` threads; returns the status counts."""
    lock, pending, statuses = threading.Lock(), list(reversed(requests)), {}

    def client():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        base = {"Authorization": f"Token {token}", "Content-Type": "application/json", "Connection": "keep-alive"}
        while True:
            with lock:
                if not pending:
                    break
                method, path, body, headers = pending.pop()
            conn.request(method, path, body=json.dumps(body) if body else None, headers={**base, **headers})
            response = conn.getresponse()
            response.read()
            with lock:
                statuses[response.status] = statuses.get(response.status, 0) + 1
        conn.close()

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses


class PollingCpuMeter:
    """CpuMeter's sums, over every process seen since it started, polled from a thread of its own.

    A backend that ends between two samples (a connection a request or a webhook dispatch opens and closes) takes
    its CPU time out of /proc with it; polling keeps the last figure read for each, so at most one interval of
    such a process's time is missed. Used for the HTTP phases, where the polling thread's cost is not the app's.
    """

    def __init__(self, meter, interval=0.1):
        self.meter, self.interval, self.seen = meter, interval, {}
        self.lock, self.stop = threading.Lock(), threading.Event()
        self.thread = threading.Thread(target=self._poll, daemon=True)
        self.thread.start()

    def _poll(self):
        while not self.stop.wait(self.interval):
            self._read()

    def _read(self):
        found = {}
        for pid, ppid, command in pos_redeem._processes():
            if pid == self.meter.server_pid or ppid == self.meter.server_pid:
                found[pid] = ("app", pos_redeem._cpu_seconds(pid))
            elif command.startswith("postgres:") and f" {self.meter.database} " in command:
                found[pid] = ("db", pos_redeem._cpu_seconds(pid))
        with self.lock:
            for pid, (kind, seconds) in found.items():
                if seconds >= self.seen.get(pid, (kind, 0.0))[1]:
                    self.seen[pid] = (kind, seconds)

    def sample(self):
        self._read()
        with self.lock:
            return tuple(sum(s for kind, s in self.seen.values() if kind == wanted) for wanted in ("app", "db"))

    def close(self):
        self.stop.set()
        self.thread.join()


class Figure:
    def __init__(self, name, unit, work, app_seconds, db_seconds, wall_seconds, note=""):
        self.name, self.unit, self.work, self.note = name, unit, work, note
        self.app_seconds, self.db_seconds, self.wall_seconds = app_seconds, db_seconds, wall_seconds

    def per_core(self, seconds):
        return self.work / seconds if seconds > 0 else float("inf")

    @property
    def app_rate(self):
        return self.per_core(self.app_seconds)

    @property
    def db_rate(self):
        return self.per_core(self.db_seconds)

    def line(self, baseline=None):
        ratio = ""
        if baseline is not None:
            app, db = self.app_rate / baseline.app_rate, self.db_rate / baseline.db_rate
            ratio = f"   vs {baseline.name}: app {app:4.2f}x, db {db:4.2f}x"
        return (f"{self.name:<16} {self.work:>8} {self.unit:<4} app {self.app_rate:9.0f}/core-s   "
                f"db {self.db_rate:9.0f}/core-s   wall {self.work / self.wall_seconds:8.0f}/s{ratio}"
                f"{('   ' + self.note) if self.note else ''}")  # fmt: skip


def measured(meter, name, unit, work_count, work):
    before, started = meter.sample(), time.perf_counter()
    note = work()
    wall = time.perf_counter() - started
    after = meter.sample()
    app, db = (b - a for a, b in zip(before, after, strict=True))
    return Figure(name, unit, work_count, app, db, wall, note or "")


def http_figures(args, db_url, name, token, bodies):
    server = pos_redeem.start_server(db_url, args.port, args.workers, args.threads)
    try:
        meter = PollingCpuMeter(pos_redeem.CpuMeter(server.pid, name))
        codes = args.codes
        validate = [("POST", "/api/v1/coupons/validate", body, {}) for body in bodies[:codes]]
        redeem = [("POST", "/api/v1/coupons/redeem", body, {"Idempotency-Key": f"pc-{n}"})
                  for n, body in enumerate(bodies[:codes])]  # fmt: skip
        # setup_database made codes … 2·codes - 1 for the bare view (pos_redeem.py hands them to wrk by index).
        bare = [("POST", "/api/v1/bench/bare-redeem", {**bodies[0], "code": f"BENCH{n:08d}", "member": f"B{n:07d}"},
                 {}) for n in range(codes, 2 * codes)]  # fmt: skip
        coupons = [("GET", f"/api/v1/members/{body['member']}/coupons", None, {}) for body in bodies[:codes]]
        requests_phase(args.port, token, validate[:200], args.clients)  # warm up: connections, prepared statements

        def phase(requests):
            return lambda: str(requests_phase(args.port, token, requests, args.clients))

        return [
            measured(meter, "bare redeem", "req", len(bare), phase(bare)),
            measured(meter, "validate", "req", len(validate), phase(validate)),
            measured(meter, "redeem (key)", "req", len(redeem), phase(redeem)),
            measured(meter, "member coupons", "req", len(coupons), phase(coupons)),
        ]
    finally:
        meter.close()
        server.terminate()
        server.wait(timeout=20)


def row_figures(args, name):
    from django.db import connection, transaction
    from django.utils import timezone

    from bench.coupons_bulk_issue import load_members
    from config.actors import Actor
    from config.celery import app
    from coupons.issuance.bulk import bulk_issue_run
    from coupons.models import BulkIssueJob, CouponSeries
    from exports.datasets import dataset_get
    from exports.streaming import write_csv
    from members.models import Member, Segment
    from offers.models import Offer

    connection.close()  # one fresh connection for the rest: its backend is the one measured
    # The tasks these paths queue (webhook dispatch of the issued events) go to the in-memory broker and are not
    # run here: on a fleet a webhooks worker runs them, and they are not part of issuing or exporting.
    app.conf.task_always_eager = False
    meter = pos_redeem.CpuMeter(os.getpid(), name)

    def plain_copy():
        with connection.cursor() as cursor:
            cursor.execute("CREATE TEMP TABLE per_core_copy (code text PRIMARY KEY, member_id bigint)")
            with cursor.cursor.copy("COPY per_core_copy FROM STDIN") as copy:
                copy.write("".join(f"C{n:09d}\t{n}\n" for n in range(args.rows)))
            cursor.execute("DROP TABLE per_core_copy")

    baseline = measured(meter, "plain COPY in", "rows", args.rows, plain_copy)

    segment = Segment.objects.create(code="per-core", name="Per core")
    load_members(args.rows, segment.pk)  # every member joins the segment, the HTTP phases' ones included
    members = Member.objects.count()
    offer = Offer.objects.create(external_id="PER-CORE", name="Per core",
                                 expire_at=timezone.now() + timezone.timedelta(days=90))  # fmt: skip
    series = CouponSeries.objects.create(
        offer=offer, name="Per core", code_mode="unique", code_length=10, code_charset="alphanumeric",
        expiry_mode="days_from_issue", expiry_days=30,
    )  # fmt: skip
    job = BulkIssueJob.objects.create(series=series, source="segment", segment=segment, chunk_size=50_000,
                                      actor="bench", channel="cli")  # fmt: skip

    def issue():
        done = bulk_issue_run(job_id=job.pk, actor=Actor.cli("bench"), workers=1)
        assert done.issued == members, (done.issued, members)

    issued = measured(meter, "bulk issuance", "rows", members, issue)

    def export():
        out = io.BytesIO()
        # Inside a transaction the COPY runs on this connection (the one measured), not one of its own.
        with transaction.atomic():
            rows = write_csv(dataset=dataset_get("members"), columns=["external_id", "email", "status"], filters={},
                             out=out, on_progress=lambda done: None)  # fmt: skip
        assert rows == members, (rows, members)

    exported = measured(meter, "export (COPY)", "rows", members, export)
    return baseline, [issued, exported]


def main():
    args = parse_args()
    pg = args.pg.rstrip("/")
    name = f"od_bench_per_core_{os.getpid()}"
    db_url = f"{pg}/{name}"
    pos_redeem.admin_sql(pg, f'CREATE DATABASE "{name}"')
    try:
        token, bodies, _ = pos_redeem.setup_database(db_url, args.codes, contended=0)
        from django.db import connections

        connections.close_all()
        print(f"load average before {os.getloadavg()[0]:.2f}, {os.cpu_count()} CPUs; granian {args.workers} x "
              f"{args.threads}, {args.clients} client threads; CPU per core-second from /proc")  # fmt: skip
        http = http_figures(args, db_url, name, token, bodies)
        baseline, rows = row_figures(args, name)
        print(http[0].line())
        for figure in http[1:]:
            print(figure.line(http[0]))
        print(baseline.line())
        for figure in rows:
            print(figure.line(baseline))
        return 0
    finally:
        pos_redeem.teardown(None, pg, name)


if __name__ == "__main__":
    sys.exit(main())
