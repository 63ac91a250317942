"""Benchmark: the liability report as of a past date over 1,000,000 coupons (PostgreSQL).

Runs in a throw-away database of its own on the PostgreSQL that DATABASE_URL points at:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/od .venv/bin/python bench/liability_report.py \
        [--coupons 1000000] [--series 20] [--points 200000] [--baseline 2000]

The coupons (a fifth redeemed, a tenth of those reversed, a tenth expired, a twentieth revoked, spread over 20
series of fixed and percentage discounts and two currencies) and the points entries are written with one
INSERT … SELECT over generate_series each. Prints the report's time as of a past date and as of today, its
query count, and two baselines measured in the same run: the floor, one `COUNT(*) … GROUP BY series_id` over the
same coupons, and the naive report, each coupon classified in Python with its redemptions read one query a
coupon (a sample, extrapolated).
"""

import argparse
import os
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.development")

import django

django.setup()

from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402


def load(args, *, member_id, store_id, series_ids):
    """Coupons issued over the last year, their redemptions, and a points ledger, in three statements."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO coupons_coupon (series_id, code, is_common, member_id, status, issued_at, expires_at,
                                        is_reversed, last_status_change_on, created_at)
            SELECT (%(series)s)[1 + n %% cardinality(%(series)s)], 'L' || n, false, %(member)s,
                   CASE WHEN n %% 5 = 0 THEN 'redeemed' WHEN n %% 10 = 1 THEN 'expired'
                        WHEN n %% 20 = 3 THEN 'revoked' ELSE 'issued' END,
                   now() - (n %% 365) * interval '1 day',
                   CASE WHEN n %% 10 = 1 THEN now() - (n %% 30) * interval '1 day'
                        ELSE now() + interval '90 days' END,
                   false, now() - (n %% 30) * interval '1 day', now()
              FROM generate_series(1, %(count)s) n
            """,
            {"series": series_ids, "member": member_id, "count": args.coupons},
        )
        cursor.execute(
            """
            INSERT INTO coupons_couponredemption (coupon_id, series_id, member_id, store_id, bill_amount,
                discount_amount, currency, transaction_id, redeemed_at, is_reversed, reversed_at, actor, channel)
            SELECT c.id, c.series_id, c.member_id, %(store)s, 100, 5, 'USD', '', c.issued_at + interval '1 day',
                   c.id %% 10 = 0, CASE WHEN c.id %% 10 = 0 THEN c.issued_at + interval '2 days' END, 'bench', 'cli'
              FROM coupons_coupon c WHERE c.status = 'redeemed'
            """,
            {"store": store_id},
        )
        cursor.execute(
            """
            INSERT INTO members_pointsentry (member_id, points, balance_after, kind, reason, reference, actor,
                                             channel, created_at)
            SELECT %(member)s, 1 + n %% 100, 0, 'adjustment', '', '', 'bench', 'cli',
                   now() - (n %% 365) * interval '1 day'
              FROM generate_series(1, %(count)s) n
            """,
            {"member": member_id, "count": args.points},
        )
        cursor.execute("VACUUM ANALYZE coupons_coupon, coupons_couponredemption, members_pointsentry")


def naive_report(*, as_of, limit):
    """The report as a first version would write it: each coupon read and classified in Python."""
    from coupons.models import Coupon
    from exports.reports.liability import end_of_day

    at = end_of_day(as_of)
    totals = {}
    for coupon in Coupon.objects.filter(issued_at__lt=at).select_related("series").order_by("pk")[:limit]:
        live = [
            r for r in coupon.redemptions.all() if r.redeemed_at < at and not (r.is_reversed and r.reversed_at < at)
        ]
        if coupon.status == "revoked" and coupon.last_status_change_on < at:
            state = "revoked"
        elif live and not coupon.series.multi_use:
            state = "redeemed"
        elif coupon.expires_at and coupon.expires_at < at:
            state = "expired"
        else:
            state = "open"
        totals[(coupon.series_id, state)] = totals.get((coupon.series_id, state), 0) + 1
    return totals


def timed(function):
    started = time.perf_counter()
    result = function()
    return result, time.perf_counter() - started


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--coupons", type=int, default=1_000_000)
    parser.add_argument("--series", type=int, default=20)
    parser.add_argument("--points", type=int, default=200_000)
    parser.add_argument("--baseline", type=int, default=2_000)
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("Set DATABASE_URL to a PostgreSQL database.")

    connection.settings_dict.setdefault("TEST", {})["NAME"] = f"bench_liability_{os.getpid()}"
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        from coupons.models import CouponSeries
        from exports.reports.liability import liability_report
        from members.models import Member, OrgEntity
        from offers.models import Offer

        member = Member.objects.create(external_id="BENCH-1")
        store = OrgEntity.objects.create(code="S-BENCH", type="store", name="Bench store")
        offer = Offer.objects.create(external_id="BENCH-OFFER", name="Bench")
        series_ids = [
            CouponSeries.objects.create(
                offer=offer, name=f"Bench {n}", code_mode="upload", discount_value=5,
                discount_type="percentage" if n % 4 == 3 else "fixed", discount_currency="EUR" if n % 2 else "USD",
            ).pk
            for n in range(args.series)
        ]  # fmt: skip
        _, seconds = timed(lambda: load(args, member_id=member.pk, store_id=store.pk, series_ids=series_ids))
        print(f"loaded {args.coupons:,} coupons, their redemptions and {args.points:,} points entries: {seconds:.1f} s")

        past = timezone.localdate() - timedelta(days=60)
        with connection.cursor() as cursor:
            _, floor = timed(lambda: cursor.execute("SELECT series_id, COUNT(*) FROM coupons_coupon GROUP BY 1"))
            cursor.fetchall()
        runs = {}
        for label, as_of in (("as of 60 days ago", past), ("as of today", timezone.localdate())):
            timings = []
            for _ in range(3):
                with CaptureQueriesContext(connection) as captured:
                    report, seconds = timed(lambda as_of=as_of: liability_report(as_of=as_of))
                timings.append(seconds)
            runs[label] = min(timings)
            open_count = sum(row.issued_open_count for row in report["coupons"])
            print(
                f"liability_report {label}: best of 3 {min(timings) * 1000:.0f} ms "
                f"(worst {max(timings) * 1000:.0f} ms), {len(captured)} queries, {len(report['coupons'])} rows, "
                f"{open_count:,} open coupons"
            )
        _, naive = timed(lambda: naive_report(as_of=past, limit=args.baseline))
        naive_total = naive / args.baseline * args.coupons
        print(f"floor, COUNT(*) GROUP BY series_id: {floor * 1000:.0f} ms")
        print(
            f"naive per-coupon report: {args.baseline / naive:.0f} coupons/s (sample of {args.baseline:,}), "
            f"{naive_total:.0f} s extrapolated to {args.coupons:,}"
        )
        for label, seconds in runs.items():
            print(f"ratio {label}: {seconds / floor:.1f}x the floor, {naive_total / seconds:.0f}x faster than naive")
    finally:
        connection.close()
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
