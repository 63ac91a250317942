"""Benchmark: the liability report over 10,000,000 coupons (PostgreSQL), read from the day closes.

Runs in a throw-away database of its own on the PostgreSQL that DATABASE_URL points at:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/od .venv/bin/python bench/liability_report.py \
        [--coupons 10000000] [--series 20] [--points 2000000] [--baseline 2000]

The coupons are issued evenly over the last year (a fifth redeemed the day after, a tenth of those reversed the day
after that, a tenth expired after 30 days and swept, a twentieth revoked, over 20 series of fixed and percentage
discounts and two currencies), with the events the services record with each and a points ledger, written with one
INSERT … SELECT each. Then, as the hourly task does, the first close (reading every coupon) and, `--catch-up` days
later, every settled day since carried forward. Prints the report's time as of a closed day and as of today
(carried from the last close over the days still open), its query count, whether the carried figures equal the ones
read from every coupon, and three baselines measured in the same run: reading every coupon (the report before the
closes), the floor, one `COUNT(*) … GROUP BY series_id` over the coupons, and the naive report, each coupon
classified in Python with its redemptions read one query a coupon (a sample, extrapolated).
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
    """Coupons issued over the last year (spread evenly by day), their redemptions, the events the services record
    with each, and a points ledger: one INSERT … SELECT over generate_series each."""
    with connection.cursor() as cursor:
        # An age of 0 to 364 days a coupon; redeemed the day after its issue, a tenth of those reversed the day after;
        # revoked three days after; expired 30 days after its issue (swept); the rest open for 90 days more.
        cursor.execute(
            """
            INSERT INTO coupons_coupon (series_id, code, is_common, member_id, status, issued_at, expires_at,
                                        is_reversed, last_status_change_on, created_at)
            SELECT (%(series)s)[1 + n %% cardinality(%(series)s)], 'L' || n, false, %(member)s,
                   CASE WHEN n %% 5 = 0 AND age > 1 THEN 'redeemed' WHEN n %% 10 = 1 AND age > 30 THEN 'expired'
                        WHEN n %% 20 = 3 AND age > 3 THEN 'revoked' ELSE 'issued' END,
                   issued,
                   CASE WHEN n %% 10 = 1 THEN issued + interval '30 days' ELSE now() + interval '90 days' END,
                   false,
                   CASE WHEN n %% 20 = 3 AND age > 3 THEN issued + interval '3 days' ELSE issued END, issued
              FROM (SELECT n, n %% 365 AS age, now() - (n %% 365) * interval '1 day' - (n %% 997) * interval '1 minute'
                           AS issued
                      FROM generate_series(1, %(count)s) n) g
             ORDER BY g.issued
            """,
            {"series": series_ids, "member": member_id, "count": args.coupons},
        )
        cursor.execute(
            """
            INSERT INTO coupons_couponredemption (coupon_id, series_id, member_id, store_id, bill_amount,
                discount_amount, currency, transaction_id, redeemed_at, is_reversed, reversed_at, actor, channel)
            SELECT c.id, c.series_id, c.member_id, %(store)s, 100, 5, 'USD', '', c.issued_at + interval '1 day',
                   c.id %% 10 = 0 AND c.issued_at < now() - interval '2 days',
                   CASE WHEN c.id %% 10 = 0 AND c.issued_at < now() - interval '2 days'
                        THEN c.issued_at + interval '2 days' END, 'bench', 'cli'
              FROM coupons_coupon c WHERE c.status = 'redeemed' ORDER BY c.issued_at
            """,
            {"store": store_id},
        )
        # a reversed redemption reinstates its coupon
        cursor.execute(
            "UPDATE coupons_coupon SET status = 'issued' WHERE id IN"
            " (SELECT coupon_id FROM coupons_couponredemption WHERE is_reversed)"
        )
        cursor.execute(
            """
            INSERT INTO coupons_couponevent (coupon_id, old_status, new_status, actor, channel, reason, at)
            SELECT id, old, new, 'bench', 'cli', '', at FROM (
                SELECT id, '' AS old, 'issued' AS new, issued_at AS at FROM coupons_coupon
                UNION ALL SELECT coupon_id, 'issued', 'redeemed', redeemed_at FROM coupons_couponredemption
                UNION ALL SELECT coupon_id, 'redeemed', 'issued', reversed_at FROM coupons_couponredemption
                           WHERE is_reversed
                UNION ALL SELECT id, 'issued', 'revoked', last_status_change_on FROM coupons_coupon
                           WHERE status = 'revoked'
                UNION ALL SELECT id, 'issued', 'expired', expires_at + interval '3 hours' FROM coupons_coupon
                           WHERE status = 'expired') e
             ORDER BY at
            """
        )
        cursor.execute(
            """
            INSERT INTO members_pointsentry (member_id, points, balance_after, kind, reason, reference, actor,
                                             channel, created_at, shortfall)
            SELECT %(member)s, 1 + n %% 100, 0, 'adjustment', '', '', 'bench', 'cli',
                   now() - (n %% 365) * interval '1 day', 0
              FROM generate_series(1, %(count)s) n ORDER BY 9
            """,
            {"member": member_id, "count": args.points},
        )
    with connection.cursor() as cursor:
        cursor.execute(
            "VACUUM ANALYZE coupons_coupon, coupons_couponredemption, coupons_couponevent, members_pointsentry"
        )


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
    parser.add_argument("--coupons", type=int, default=10_000_000)
    parser.add_argument("--series", type=int, default=20)
    parser.add_argument("--points", type=int, default=2_000_000)
    parser.add_argument("--baseline", type=int, default=2_000)
    parser.add_argument("--catch-up", type=int, default=3, help="days the task catches up after the first close")
    parser.add_argument("--keep-database", action="store_true", help="leave the database for EXPLAIN afterwards")
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("Set DATABASE_URL to a PostgreSQL database.")

    connection.settings_dict.setdefault("TEST", {})["NAME"] = f"bench_liability_{os.getpid()}"
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        from config.actors import Actor
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

        from exports.reports.liability_closes import last_closable_day, liability_days_close
        from exports.reports.liability_figures import end_of_day, figures_scanned
        from exports.reports.models import LiabilityClose

        today = timezone.localdate()
        past = today - timedelta(days=args.catch_up + 4)
        with connection.cursor() as cursor:
            _, floor = timed(lambda: cursor.execute("SELECT series_id, COUNT(*) FROM coupons_coupon GROUP BY 1"))
            cursor.fetchall()
        scanned, scan_seconds = timed(lambda: figures_scanned(end_of_day(today)))
        print(f"reading every coupon as of today (the report before the closes): {scan_seconds * 1000:.0f} ms")

        # The closes as the hourly task keeps them: the first one reads every coupon; `--catch-up` days later the task
        # carries each day since to the newest settled one.
        actor = Actor.task("bench")
        earlier = timezone.now() - timedelta(days=args.catch_up)
        _, first_close = timed(lambda: liability_days_close(actor=actor, now=earlier))
        started_day = LiabilityClose.objects.get().day
        closed, carry_seconds = timed(lambda: liability_days_close(actor=actor))
        print(
            f"first close (as of {started_day}, every coupon read): {first_close:.1f} s; then {closed} days carried "
            f"to {last_closable_day()} in {carry_seconds:.1f} s ({carry_seconds / max(closed, 1) * 1000:.0f} ms a day)"
        )
        runs = {}
        for label, as_of in (("as of a closed day", past), ("as of today (carried from the last close)", today)):
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
        from exports.reports.liability_closes import figures_as_of

        same = figures_as_of(today)
        agree = (
            {k: v for k, v in same.coupons.items() if any(v.values())}
            == {k: v for k, v in scanned.coupons.items() if any(v.values())}
            and dict(same.redemptions) == dict(scanned.redemptions)
            and same.points == scanned.points
        )
        print(f"carried figures as of today equal the figures read from every coupon: {agree}")
        _, naive = timed(lambda: naive_report(as_of=past, limit=args.baseline))
        naive_total = naive / args.baseline * args.coupons
        print(f"floor, COUNT(*) GROUP BY series_id: {floor * 1000:.0f} ms")
        print(
            f"naive per-coupon report: {args.baseline / naive:.0f} coupons/s (sample of {args.baseline:,}), "
            f"{naive_total:.0f} s extrapolated to {args.coupons:,}"
        )
        for label, seconds in runs.items():
            print(
                f"ratio {label}: {seconds / floor:.2f}x the floor, {seconds / scan_seconds:.3f}x reading every coupon, "
                f"{naive_total / seconds:.0f}x faster than naive"
            )
    finally:
        connection.close()
        if args.keep_database:
            print(f"database kept: {connection.settings_dict['NAME']}")
        else:
            connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
