"""The till's whole basket over HTTP: evaluate a 30-line basket with 3 coupons against 1,000 live offers, and
checkout + commit pairs, under granian on PostgreSQL, against the bare DRF redeem view in the same run.

    .venv/bin/python bench/baskets.py [--requests 3000] [--pairs 600] [--clients 8] [--workers 2] [--threads 4]
        [--offers 1000] [--transactions 3000] [--pg postgres://postgres@127.0.0.1:5432]

Creates a throwaway database, migrates it, loads one store, one POS client, `--offers` live earning offers
(half product offers on SKU-0 … SKU-99, half spend offers with thresholds from 10 to 500), three coupon series
(a fixed 2.00 on every line, 10 % on SKU-0 … SKU-9, a fixed 1.00 considered first) and three coupons of
those series per member. Starts the app (bench/pos_bare_wsgi.py: the real app plus the bare view) and runs:

1. bare: the bare DRF redeem view (token auth, one conditional UPDATE), distinct codes: the ceiling;
2. evaluate: the same 30-line basket with its member's three coupons, members taken in turn;
3. checkout: POST /checkouts then POST /checkouts/{id}/commit (with an Idempotency-Key) for a fresh member
   each time: a pair per customer, timed as one;
4. transactions: POST /transactions of a 20-line basket (the evaluate basket's first 20 lines), members taken
   in turn (`--transactions 0` skips it).

The load generator is wrk when it is installed (`--driver wrk`, the default then; bench/baskets_wrk.lua): a C
event loop that leaves the two cores to the app and the database, as real tills on their own machines do. Each
phase then runs for `--seconds`, with `--connections` connections over `--wrk-threads` threads; the pairs take
one connection per wrk thread (`--pair-connections` of each), so each connection chains its opening and its
commit, and wrk's latencies are per request (an opening or a commit), not per pair. `--driver threads` keeps the
Python client threads (`--clients`), which share the cores with the app and take a large share of them; their
figures are rough. In either mode the ratio against the bare view, measured in the same run, is what to
compare. Prints requests/s with p50/p99 per phase (and, under wrk, the app's and the database's CPU per
request), the ratios, and checks afterwards that every commit redeemed its three coupons once and that no
coupon was redeemed twice. The database is dropped at the end.
"""

import argparse
import json
import os
import shutil
import statistics
import sys
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.pos_redeem import (  # noqa: E402
    CpuMeter,
    admin_sql,
    report,
    run_clients,
    run_phase,
    start_server,
    teardown,
    till_setup,
    wrk_report,
    wrk_run,
)

LINES = 30
PURCHASE_LINES = 20
CATALOGUE = 900


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=3000, help="requests of the bare and evaluate phases")
    parser.add_argument("--pairs", type=int, default=600, help="checkout + commit pairs")
    parser.add_argument("--transactions", type=int, default=3000,
                        help="POST /transactions of a 20-line basket (0: no transactions phase)")  # fmt: skip
    parser.add_argument("--members", type=int, default=200, help="members the evaluate phase takes in turn")
    parser.add_argument("--offers", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=8, help="load generator threads")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--driver", choices=["wrk", "threads"], default="wrk" if shutil.which("wrk") else "threads",
                        help="load generator: wrk (the default when installed) or Python threads")  # fmt: skip
    parser.add_argument("--seconds", type=int, default=8, help="wrk: seconds a phase")
    parser.add_argument("--connections", type=int, default=16, help="wrk: connections of the bare, evaluate and "
                        "transactions phases")  # fmt: skip
    parser.add_argument("--wrk-threads", type=int, default=2)
    parser.add_argument("--pair-connections", type=int, default=8, help="wrk: tills doing pairs, one connection each")
    parser.add_argument("--codes", type=int, default=20_000,
                        help="wrk: bare codes (and members); a fifth as many paying members")  # fmt: skip
    parser.add_argument("--port", type=int, default=8798)
    parser.add_argument("--pg", default=os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432"))
    return parser.parse_args()


def lines():
    return [
        {"line_ref": str(n), "sku": f"SKU-{n * 37 % CATALOGUE}", "quantity": 1 + n % 3, "unit_price": f"{2 + n % 9}.49"}
        for n in range(LINES)
    ]


def setup_database(db_url, args):
    store, token, bare_series = till_setup(db_url)
    import django
    from django.utils import timezone

    from coupons.models import Coupon, CouponSeries
    from members.models import Member
    from offers.models import EarningMechanism, Offer

    now = timezone.now()
    offers = Offer.objects.bulk_create(
        Offer(external_id=f"EARN-{n:05d}", name=f"Earn {n}", expire_at=now + timezone.timedelta(days=30))
        for n in range(args.offers)
    )
    # Nine in ten offers reward one product of a catalogue of 900 SKUs, one in ten a spend from 100.00 up to
    # 10,000.00: a basket meets the few offers of its own products and thresholds, as in a real program.
    EarningMechanism.objects.bulk_create(
        EarningMechanism(offer=offer, behavior_type="purchase_product", sku=f"SKU-{n * 10 // 9 % CATALOGUE}",
                         min_quantity=1, award_type="points", points=10)
        if n % 10
        else EarningMechanism(offer=offer, behavior_type="spend", min_amount=100 * (1 + n // 10),
                              award_type="points_per_unit", points_per_unit=1)
        for n, offer in enumerate(offers)
    )  # fmt: skip
    offer = Offer.objects.get(external_id="BENCH")
    series = [
        CouponSeries.objects.create(offer=offer, name="Fixed", code_mode="upload", discount_type="fixed",
                                    discount_value=2, discount_currency="USD"),
        CouponSeries.objects.create(offer=offer, name="Some SKUs", code_mode="upload", discount_type="percentage",
                                    discount_value=10, redemption_skus=[f"SKU-{n}" for n in range(10)]),
        CouponSeries.objects.create(offer=offer, name="First", code_mode="upload", discount_type="fixed",
                                    discount_value=1, discount_currency="USD", stacking_priority=5),
    ]  # fmt: skip
    bare, evaluating, paying = args.requests, args.members, args.pairs
    total = bare + evaluating + paying
    Member.objects.bulk_create(Member(external_id=f"B{n:07d}", email=f"b{n}@example.com") for n in range(total))
    members = dict(Member.objects.filter(external_id__startswith="B").values_list("external_id", "pk"))
    common = {"status": "issued", "issued_at": now, "redeemable_from": now, "last_status_change_on": now}
    Coupon.objects.bulk_create(
        Coupon(series=bare_series, code=f"BARE{n:08d}", member_id=members[f"B{n:07d}"], **common) for n in range(bare)
    )
    Coupon.objects.bulk_create(
        Coupon(series=one, code=f"BSK{n:07d}{index}", member_id=members[f"B{n:07d}"], **common)
        for n in range(bare, total)
        for index, one in enumerate(series)
    )
    with django.db.connection.cursor() as cursor:
        history_seed(cursor, store.pk, offers[0].pk, len(offers))
        cursor.execute("ANALYZE")

    def basket(n):
        return {"member": f"B{n:07d}", "store": store.code, "lines": lines(),
                "coupon_codes": [f"BSK{n:07d}{index}" for index in range(3)]}  # fmt: skip

    bare_bodies = [
        {"code": f"BARE{n:08d}", "member": f"B{n:07d}", "store": store.code, "bill_amount": "42.00"}
        for n in range(bare)
    ]
    evaluations = [basket(bare + n % evaluating) for n in range(args.requests)]
    checkouts = [{**basket(n), "transaction_id": f"BT-{n}"} for n in range(bare + evaluating, total)]
    return token, bare_bodies, evaluations, checkouts


def history_seed(cursor, store_id, first_offer_id, offers):
    """A past purchase of every member, earning three offers, and a past checkout of every member, committed, with
    its three released holds: the tables the phases write to then have statistics taken over rows, as a program
    that has been trading for a while does. Analyzed empty, the planner would take them for tiny while the
    phases fill them, and scan (the members' award counts scanned every fulfillment: about 7 of a commit's
    20 ms of statements). No offer of the bench limits its awards, so the history changes no answer."""
    cursor.execute(
        """INSERT INTO offers_transaction (transaction_id, occurred_at, total_amount, items, actor, channel,
               created_at, member_id, store_id, request_fingerprint)
           SELECT 'HIST-' || m.id, now() - interval '1 day', 10, '[]', 'bench', 'bench', now(), m.id, %s, ''
           FROM members_member m""",
        [store_id],
    )
    if offers:
        cursor.execute(
            """INSERT INTO offers_fulfillment (points, occurred_at, created_at, member_id, offer_id, transaction_id)
               SELECT 10, t.occurred_at, t.created_at, t.member_id, %s + (t.id * 7 + g * 331) %% %s, t.id
               FROM offers_transaction t, generate_series(0, 2) g
               ON CONFLICT DO NOTHING""",
            [first_offer_id, offers],
        )
    cursor.execute(
        """WITH past AS (
               INSERT INTO till_checkout (transaction_id, status, expires_at, basket, evaluation, committed_body,
                   created_at, status_changed_at, actor, channel, member_id, store_id)
               SELECT 'HIST-' || m.id, 'committed', now() - interval '1 day', '{}', '{}', '{}',
                   now() - interval '1 day', now() - interval '1 day', 'bench', 'bench', m.id, %s
               FROM members_member m
               RETURNING id, created_at)
           INSERT INTO till_checkouthold (kind, code, held_at, released_at, checkout_id, coupon_id)
           SELECT 'coupon', 'HIST', p.created_at, p.created_at, p.id, -(p.id * 3 + g)
           FROM past p, generate_series(0, 2) g""",
        [store_id],
    )


def purchases(store_code, count, members):
    """`count` purchases of the first 20 lines of the evaluate basket, by `members` members in turn."""
    items = [{key: line[key] for key in ("sku", "quantity", "unit_price")} for line in lines()[:PURCHASE_LINES]]
    total = sum(Decimal(line["unit_price"]) * line["quantity"] for line in items)
    return [
        {"transaction_id": f"PT-{n}", "member": f"B{n % members:07d}", "store": store_code,
         "total_amount": f"{total:.2f}", "items": items}
        for n in range(count)
    ]  # fmt: skip


def pair_phase(port, token, bodies, clients):
    """Each client opens a checkout and commits it, body after body; returns (seconds, pair latencies, statuses)."""
    refused = []

    def send(conn, headers, index, body):
        conn.request("POST", "/api/v1/checkouts", body=json.dumps(body), headers=headers)
        response = conn.getresponse()
        opened = json.loads(response.read())
        if response.status != 201:
            if not refused:
                print(f"checkout refused: {opened}")
            refused.append(opened)
            return f"open {response.status}"
        key = {**headers, "Idempotency-Key": f"commit-{body['transaction_id']}"}
        conn.request("POST", f"/api/v1/checkouts/{opened['id']}/commit", body="", headers=key)
        response = conn.getresponse()
        response.read()
        return f"commit {response.status}"

    return run_clients(port, token, bodies, clients, send)


def redemptions_by_checkout(db_url):
    import psycopg

    with psycopg.connect(db_url) as conn:
        committed = conn.execute(
            "SELECT count(*) FROM till_checkout WHERE status = 'committed' AND transaction_id LIKE 'BT-%'"
        ).fetchone()[0]
        rows = conn.execute(
            "SELECT count(*) FROM coupons_couponredemption WHERE transaction_id LIKE 'BT-%'"
        ).fetchone()[0]
        doubles = conn.execute(
            "SELECT count(*) FROM (SELECT coupon_id FROM coupons_couponredemption GROUP BY coupon_id "
            "HAVING count(*) > 1) d"
        ).fetchone()[0]
    return committed, rows, doubles


def wrk_phase(args, token, mode, first, limit, members=1, member_first=0, meter=None):
    """Run bench/baskets_wrk.lua in `mode` for args.seconds over numbers first … first + limit - 1."""
    connections = args.pair_connections if mode == "pairs" else args.connections
    threads = args.pair_connections if mode == "pairs" else args.wrk_threads
    result = wrk_run(
        "baskets_wrk.lua", f"http://127.0.0.1:{args.port}/",
        [mode, token, "S-BENCH", first, limit, threads, members, member_first],
        threads=threads, connections=connections, seconds=args.seconds, meter=meter,
    )  # fmt: skip
    numbers = result["requests"] // 2 if mode == "pairs" else result["requests"]
    if numbers >= limit:
        raise SystemExit(f"{mode}: {result['requests']} requests for {limit} numbers; raise --codes")
    return result


def main_wrk(args, db_url, name, token, server):
    print(f"granian {args.workers} workers x {args.threads} threads; wrk {args.wrk_threads} threads, "
          f"{args.connections} connections ({args.pair_connections} for the pairs), {args.seconds} s a phase; "
          f"{args.offers} live offers, {LINES} lines, 3 coupons; load average before {os.getloadavg()[0]:.2f}, "
          f"{os.cpu_count()} CPUs")  # fmt: skip
    bare_count, evaluating, paying = args.requests, args.members, args.pairs
    warm = argparse.Namespace(**{**vars(args), "seconds": 2})
    wrk_phase(warm, token, "evaluate", 0, 10**9, members=evaluating, member_first=bare_count)
    meter = CpuMeter(server.pid, name)
    bare = wrk_phase(args, token, "bare", 0, bare_count, meter=meter)
    bare_rate = wrk_report("bare", bare)
    evaluated = wrk_phase(args, token, "evaluate", 0, 10**9, members=evaluating, member_first=bare_count,
                          meter=meter)  # fmt: skip
    evaluate_rate = wrk_report("evaluate", evaluated)
    paired = wrk_phase(args, token, "pairs", bare_count + evaluating, paying, meter=meter)
    wrk_report("pairs", paired)
    pair_rate = paired["statuses"].get("commit 200", 0) / paired["seconds"]
    print(f"{'':<10} {pair_rate:.0f} pairs/s (checkout + commit); latencies above are per request")
    print(f"throughput ratios: evaluate/bare {evaluate_rate / bare_rate:.2f}, checkout+commit pairs/bare "
          f"{pair_rate / bare_rate:.2f}; evaluate p99 {evaluated['p99_ms']:.1f} ms")  # fmt: skip
    bought = None
    if args.transactions:
        bought = wrk_phase(args, token, "transactions", 0, 10**9, members=bare_count, meter=meter)
        transaction_rate = wrk_report("transact", bought)
        print(f"transactions ({PURCHASE_LINES} lines)/bare {transaction_rate / bare_rate:.2f}; "
              f"p99 {bought['p99_ms']:.1f} ms")  # fmt: skip
    committed, rows, doubles = redemptions_by_checkout(db_url)
    opened = paired["statuses"].get("open 201", 0)
    commits = paired["statuses"].get("commit 200", 0)
    print(f"checkouts opened {opened}, commits answered 200 {commits}, committed {committed}, redemptions "
          f"through commit {rows}, double redemptions {doubles}")  # fmt: skip
    # wrk stops on the clock: each connection may leave one opening uncommitted, or one commit answered
    # after wrk stopped counting.
    failed = (
        doubles
        or rows != 3 * committed
        or not commits <= committed <= commits + args.pair_connections
        or opened - commits > args.pair_connections
        or set(paired["statuses"]) - {"open 201", "commit 200"}
        or (bought is not None and set(bought["statuses"]) != {"201"})
        or set(evaluated["statuses"]) != {"200"}
    )
    if failed:
        print("FAILED: a commit did not redeem its three coupons exactly once, or a request was refused")
        return 1
    return 0


def main():
    args = parse_args()
    if args.driver == "wrk":
        # Phases run on the clock: enough bare codes and paying members for the fastest of them.
        args.requests = max(args.requests, args.codes)
        args.pairs = max(args.pairs, args.codes // 5)
    pg = args.pg.rstrip("/")
    name = f"od_bench_baskets_{os.getpid()}"
    db_url = f"{pg}/{name}"
    admin_sql(pg, f'CREATE DATABASE "{name}"')
    server = None
    try:
        token, bare_bodies, evaluations, checkouts = setup_database(db_url, args)
        from django.db import connections

        connections.close_all()
        server = start_server(db_url, args.port, args.workers, args.threads)
        if args.driver == "wrk":
            return main_wrk(args, db_url, name, token, server)
        print(f"granian {args.workers} workers x {args.threads} threads; {args.clients} Python client threads; "
              f"{args.offers} live offers, {LINES} lines, 3 coupons; load average before {os.getloadavg()[0]:.2f}, "
              f"{os.cpu_count()} CPUs")  # fmt: skip
        run_phase(args.port, token, "/api/v1/baskets/evaluate", evaluations[:100], args.clients)  # warm up
        bare_rate = report("bare", *run_phase(args.port, token, "/api/v1/bench/bare-redeem", bare_bodies, args.clients))
        evaluated = run_phase(args.port, token, "/api/v1/baskets/evaluate", evaluations, args.clients)
        evaluate_rate = report("evaluate", *evaluated)
        paired = pair_phase(args.port, token, checkouts, args.clients)
        pair_rate = report("pairs", *paired)
        p99 = statistics.quantiles(evaluated[1], n=100)[98] * 1000
        print(f"throughput ratios: evaluate/bare {evaluate_rate / bare_rate:.2f}, checkout+commit pairs/bare "
              f"{pair_rate / bare_rate:.2f}; evaluate p99 {p99:.1f} ms")  # fmt: skip
        if args.transactions:
            bought = run_phase(args.port, token, "/api/v1/transactions",
                               purchases("S-BENCH", args.transactions, args.requests), args.clients)  # fmt: skip
            transaction_rate = report("transact", *bought)
            p99 = statistics.quantiles(bought[1], n=100)[98] * 1000
            print(f"transactions ({PURCHASE_LINES} lines)/bare {transaction_rate / bare_rate:.2f}; p99 {p99:.1f} ms")
            if bought[2].get(201, 0) != args.transactions:
                print("FAILED: a purchase was not recorded")
                return 1
        committed, rows, doubles = redemptions_by_checkout(db_url)
        print(f"checkouts committed {committed}, redemptions through commit {rows}, double redemptions {doubles}")
        if doubles or rows != 3 * committed or paired[2].get("commit 200", 0) != len(checkouts):
            print("FAILED: a commit did not redeem its three coupons exactly once")
            return 1
        return 0
    finally:
        teardown(server, pg, name)


if __name__ == "__main__":
    sys.exit(main())
