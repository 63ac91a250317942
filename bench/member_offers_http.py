"""One member's offers over HTTP: GET /api/v1/members/{id}/offers?page_size=500, under granian, on PostgreSQL.

    .venv/bin/python bench/member_offers_http.py [--offers 1000] [--requests 400] [--clients 4] [--workers 2]
        [--threads 4] [--port 8631] [--pg postgres://postgres@127.0.0.1:5432] [--database NAME]

Creates a throwaway database, migrates it, loads one store, its POS client and `--offers` live offers with their
components (bench/offers_membership_view.py's program: a mechanism, two limits, one or two audiences and a
marketing content each), and one member in the offers' segment. Starts the app as bench/pos_redeem.py does
(`config.settings.production`, granian `--workers` x `--threads`) and runs, with `--clients` Python client
threads on keep-alive connections:

1. bare: the bare DRF view of bench/pos_bare_wsgi.py (token auth, one conditional UPDATE), the ceiling of the
   stack on this machine at this moment;
2. pages: `--requests` GETs of the member's offers, every page of 500 in turn.

Prints requests/s, p50/p95/p99 latency a request (a page), the app's and the database's CPU per request, and the
ratio to the bare view. The database is dropped at the end.
"""

import argparse
import os
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.pos_redeem import (  # noqa: E402
    CpuMeter,
    admin_sql,
    run_clients,
    run_phase,
    setup_database,
    start_server,
    teardown,
)

PAGE_SIZE = 500


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--offers", type=int, default=1000)
    parser.add_argument("--requests", type=int, default=400, help="requests of each phase")
    parser.add_argument("--clients", type=int, default=4, help="client threads")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--port", type=int, default=8631)
    parser.add_argument("--pg", default=os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432"))
    parser.add_argument("--database", help="the throwaway database's name (default: one named for this process)")
    return parser.parse_args()


def member_with_offers(offers: int) -> str:
    """The member whose offers are read, and `offers` live offers; returns the member's external id."""
    from bench.offers_membership_view import make_offers
    from members.models import Member, Segment

    segment = Segment.objects.create(code="bench", name="Bench")
    member = Member.objects.create(external_id="OFFERS-1", birth_date="1990-01-01")
    member.segments.add(segment)
    make_offers(offers, segment, 0)
    return member.external_id


def page_phase(port, token, member, pages, requests, clients):
    def send(conn, headers, index, page):
        conn.request("GET", f"/api/v1/members/{member}/offers?page_size={PAGE_SIZE}&page={page}", headers=headers)
        response = conn.getresponse()
        response.read()
        return response.status

    return run_clients(port, token, [1 + n % pages for n in range(requests)], clients, send)


def measured(meter, phase):
    before = meter.sample()
    seconds, latencies, statuses = phase()
    after = meter.sample()
    count = len(latencies)
    quantiles = statistics.quantiles(latencies, n=100)
    return {
        "rate": count / seconds,
        "p50": quantiles[49] * 1000,
        "p95": quantiles[94] * 1000,
        "p99": quantiles[98] * 1000,
        "app_ms": (after[0] - before[0]) * 1000 / count,
        "db_ms": (after[1] - before[1]) * 1000 / count,
        "statuses": statuses,
        "count": count,
    }


def report(name, result):
    print(f"{name:<6} {result['count']:>5} requests {result['rate']:7.0f}/s   p50 {result['p50']:6.1f} ms   "
          f"p95 {result['p95']:6.1f} ms   p99 {result['p99']:6.1f} ms   CPU a request: app {result['app_ms']:.2f} ms, "
          f"database {result['db_ms']:.2f} ms   statuses {result['statuses']}")  # fmt: skip


def main():
    args = parse_args()
    pg = args.pg.rstrip("/")
    name = args.database or f"od_bench_member_offers_{os.getpid()}"
    db_url = f"{pg}/{name}"
    admin_sql(pg, f'CREATE DATABASE "{name}"')
    server = None
    try:
        token, bare_bodies, _ = setup_database(db_url, args.requests, 0)
        member = member_with_offers(args.offers)
        from django.db import connection, connections

        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        connections.close_all()
        server = start_server(db_url, args.port, args.workers, args.threads)
        pages = max(1, -(-args.offers // PAGE_SIZE))
        print(f"granian {args.workers} workers x {args.threads} threads; {args.clients} client threads; "
              f"{args.offers} live offers, {pages} pages of {PAGE_SIZE}; load average {os.getloadavg()[0]:.2f}, "
              f"{os.cpu_count()} CPUs")  # fmt: skip
        # Warm up: each process loads its code and its view of the offers (once per rules version), on
        # connections enough to reach every worker.
        for _ in range(args.workers):
            page_phase(args.port, token, member, pages, 10 + 2 * pages, args.clients)
        meter = CpuMeter(server.pid, name)
        path = "/api/v1/bench/bare-redeem"
        bare = measured(meter, lambda: run_phase(args.port, token, path, bare_bodies, args.clients))
        report("bare", bare)
        paged = measured(meter, lambda: page_phase(args.port, token, member, pages, args.requests, args.clients))
        report("pages", paged)
        print(f"pages/bare {paged['rate'] / bare['rate']:.2f}; a page p95 {paged['p95']:.1f} ms; load average after "
              f"{os.getloadavg()[0]:.2f}")  # fmt: skip
        if set(paged["statuses"]) != {200} or set(bare["statuses"]) != {201}:
            print("FAILED: a request was refused")
            return 1
        return 0
    finally:
        teardown(server, pg, name)


if __name__ == "__main__":
    sys.exit(main())
