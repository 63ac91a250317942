"""Benchmark: one member's view of every offer, and recording purchases that earn.

Runs against a throw-away test database on whatever DATABASE_URL points at (SQLite by default):

    .venv/bin/python bench/offers_membership_view.py [--offers 20 200 1000 5000] [--purchases 200]

Prints, for each offer count, the time and query count of membership_offer_list, the ratio to the
smallest count (the query count must not move), the CPU and statements a page of the list endpoint's rows
(`?page_size=500`, both pages) from the process's view of the offers against the same page read afresh (and
the cost of loading that view, once per rules version), and the queries
and purchases per second of transaction_record (a one-line basket matching 2 offers; the query count must
not move either), against a baseline of bare Transaction inserts measured in the same run.
"""

import argparse
import os
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.development")

import django

django.setup()

from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402


def sku(number):
    """The first 20 offers share 10 SKUs (a basket of SKU-0 … SKU-9 matches 2 of them); the rest have SKUs of
    their own that no basket sends, so a basket matches the same offers at every program size."""
    return f"SKU-{number % 10}" if number < 20 else f"SKU-X{number}"


def make_offers(count, segment, start):
    from offers.models import Audience, EarningMechanism, MarketingContent, Offer, OfferLimit

    offers = Offer.objects.bulk_create(
        Offer(external_id=f"B-{start + n}", name=f"Bench {n}", requires_activation=bool(n % 3 == 0))
        for n in range(count)
    )
    EarningMechanism.objects.bulk_create(
        EarningMechanism(offer=o, behavior_type="purchase_product", sku=sku(start + n), award_type="points", points=5)
        for n, o in enumerate(offers)
    )
    OfferLimit.objects.bulk_create(
        OfferLimit(offer=o, scope=scope, kind="fulfillment", max_count=10_000)
        for o in offers
        for scope in ("global", "member")
    )
    Audience.objects.bulk_create(Audience(offer=o, type="age", min_age=18) for o in offers)
    Audience.objects.bulk_create(Audience(offer=o, type="segment", segment=segment) for o in offers[::2])
    MarketingContent.objects.bulk_create(MarketingContent(offer=o, locale="en-US", title="Bench") for o in offers)


def time_view(member, repeats=5):
    from offers.selectors import membership_offer_list

    best = float("inf")
    for _ in range(repeats):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            rows = membership_offer_list(member=member)
            best = min(best, time.perf_counter() - started)
    return best, len(captured), len(rows)


def time_pages(member, *, cached: bool, repeats=5):
    """Both pages of 500 of the list endpoint's rows, as the view builds them: CPU milliseconds a page (best of
    `repeats`) and statements a page. `cached`: cut from the process's view of the offers and written as JSON
    (`member_view_cache`, loaded before the first repeat); else read afresh, each offer with its components, and
    built as bodies (what a page cost before the view was kept)."""
    from offers import rules_index
    from offers.api.serializers import membership_offer_bodies
    from offers.selectors import membership_offer_list, membership_offer_rows, offer_queryset

    at = timezone.now()
    rows = membership_offer_rows(member=member, at=at)
    pages = min(2, -(-len(rows) // 500))
    best, statements = float("inf"), 0
    for _ in range(repeats):
        with CaptureQueriesContext(connection) as captured:
            started = time.process_time()
            for page in range(pages):
                window = slice(page * 500, (page + 1) * 500)
                if cached:
                    rules_index.rules_version()  # the view reads it with the member
                    rows[window]
                else:
                    found = membership_offer_list(member=member, at=at, offers=offer_queryset()[window])
                    membership_offer_bodies(found)
            best = min(best, (time.process_time() - started) / pages)
        statements = len(captured) / pages
    return best * 1000, statements


def time_load(repeats=3):
    """CPU milliseconds and statements to load the view of every offer (once a process per rules version)."""
    from offers import member_view_cache

    best = float("inf")
    for _ in range(repeats):
        with CaptureQueriesContext(connection) as captured:
            started = time.process_time()
            member_view_cache.offer_view_load(version=None)
            best = min(best, time.process_time() - started)
    return best * 1000, len(captured)


def record(member, store, transaction_id, sku):
    from config.actors import Actor
    from offers.services import transaction_record

    basket = [{"sku": sku, "quantity": 1, "unit_price": Decimal("10")}]
    transaction_record(
        transaction_id=transaction_id, member=member, store=store, occurred_at=timezone.now(),
        total_amount=Decimal("10"), items=basket, actor=Actor.cli("bench"),
    )  # fmt: skip


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--offers", type=int, nargs="+", default=[20, 200, 1000, 5000])
    parser.add_argument("--purchases", type=int, default=200)
    args = parser.parse_args()

    # A database of its own, so a test run on the same server is never clobbered.
    connection.settings_dict.setdefault("TEST", {})["NAME"] = f"bench_offers_{os.getpid()}"
    if connection.vendor == "sqlite":
        connection.settings_dict["TEST"]["NAME"] = ":memory:"
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        from members.models import Member, OrgEntity, Segment
        from offers.models import Transaction

        segment = Segment.objects.create(code="bench", name="Bench")
        member = Member.objects.create(external_id="BENCH-1", birth_date=timezone.now().date().replace(year=1990))
        member.segments.add(segment)
        store = OrgEntity.objects.create(code="B-STORE", type="store", name="Bench store")

        print(f"database: {connection.vendor}")
        started = time.perf_counter()
        for n in range(args.purchases):
            Transaction.objects.create(
                transaction_id=f"BASE-{n}", member=member, store=store, occurred_at=timezone.now(),
                total_amount=Decimal("10"), actor="bench", channel="bench",
            )  # fmt: skip
        base_rate = args.purchases / (time.perf_counter() - started)
        print(f"bare Transaction insert baseline: {base_rate:8.1f} rows/s")
        print("membership_offer_list (best of 5); transaction_record of a basket matching 2 offers")
        made, baseline = 0, None
        for count in sorted(args.offers):
            make_offers(count - made, segment, made)
            made = count
            seconds, queries, rows = time_view(member)
            baseline = baseline or (seconds, count)
            per_offer = seconds / count * 1e6
            ratio = (seconds / baseline[0]) / (count / baseline[1])
            print(
                f"  {rows:>6} offers: view {seconds * 1000:8.2f} ms, {queries} queries, {per_offer:6.1f} µs/offer, "
                f"time ratio per offer vs {baseline[1]}: {ratio:.2f}"
            )
            cached_ms, cached_statements = time_pages(member, cached=True)
            fresh_ms, fresh_statements = time_pages(member, cached=False)
            load_ms, load_statements = time_load()
            print(f"          list endpoint page of 500 (both pages): {cached_ms:7.2f} ms CPU, {cached_statements:.0f} "
                  f"statements a page (+ {load_ms:.1f} ms, {load_statements} statements once per rules version); read "
                  f"afresh {fresh_ms:7.2f} ms CPU, {fresh_statements:.0f} statements")  # fmt: skip
            # the first purchase after a change loads the rules index; then every purchase reads its version
            record(member, store, f"TX-WARM-{count}", "SKU-1")
            with CaptureQueriesContext(connection) as captured:
                record(member, store, f"TX-Q-{count}", "SKU-1")
            started = time.perf_counter()
            for n in range(args.purchases):
                record(member, store, f"TX-{count}-{n}", f"SKU-{n % 10}")
            rate = args.purchases / (time.perf_counter() - started)
            print(f"          transaction_record: {len(captured)} queries, {rate:8.1f} purchases/s "
                  f"({rate / base_rate:.3f} of the bare insert)")  # fmt: skip
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
