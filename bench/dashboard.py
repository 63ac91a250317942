"""Benchmark: the admin dashboard (the admin index) at 1,000,000 coupons and 400,000 offer responses (PostgreSQL).

Runs in a throw-away database of its own on the PostgreSQL that DATABASE_URL points at:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/od .venv/bin/python bench/dashboard.py \
        [--coupons 1000000] [--responses 400000] [--series 40] [--renders 10]

Coupons issued over the last 120 days across 40 series of 4 offers (a fifth redeemed), offer responses over the
same days and a points ledger are written with INSERT … SELECT over generate_series. Then it times the rebuild
of the daily figures for the last 90 days (what a backfill does once; the beat schedule rebuilds two days), and
renders the admin index through the test client: with the dashboard, and, as the baseline of the same run, the
index without it (unfold's list of applications, what the index was before the dashboard).
"""

import argparse
import os
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.development")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client, override_settings  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402


def load(args, *, member_ids, store_id, series_ids, offer_ids):
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO coupons_coupon (series_id, code, is_common, member_id, status, issued_at, expires_at,
                                        is_reversed, last_status_change_on, created_at)
            SELECT (%(series)s)[1 + n %% cardinality(%(series)s)], 'D' || n, false,
                   (%(members)s)[1 + n %% cardinality(%(members)s)],
                   CASE WHEN n %% 5 = 0 THEN 'redeemed' ELSE 'issued' END,
                   now() - (n %% 120) * interval '1 day', now() + (n %% 60) * interval '1 day',
                   false, now(), now()
              FROM generate_series(1, %(count)s) n
            """,
            {"series": series_ids, "members": member_ids, "count": args.coupons},
        )
        cursor.execute(
            """
            INSERT INTO coupons_couponredemption (coupon_id, series_id, member_id, store_id, bill_amount,
                discount_amount, currency, transaction_id, redeemed_at, is_reversed, actor, channel)
            SELECT c.id, c.series_id, c.member_id, %(store)s, 100, 5, 'USD', '', c.issued_at + interval '1 hour',
                   false, 'bench', 'cli'
              FROM coupons_coupon c WHERE c.status = 'redeemed'
            """,
            {"store": store_id},
        )
        cursor.execute(
            """
            INSERT INTO offers_offerresponse (member_id, offer_id, status, source, offer_snapshot,
                requires_activation, one_open_only, certificate_code, status_changed_at, created_at)
            SELECT (%(members)s)[1 + n %% cardinality(%(members)s)], (%(offers)s)[1 + n %% cardinality(%(offers)s)],
                   'completed', 'claim', '{}', false, false, '', now(), now() - (n %% 120) * interval '1 day'
              FROM generate_series(1, %(count)s) n
            """,
            {"members": member_ids, "offers": offer_ids, "count": args.responses},
        )
        cursor.execute(
            """
            INSERT INTO members_pointsentry (member_id, points, balance_after, kind, reason, reference, actor,
                                             channel, created_at)
            SELECT (%(members)s)[1 + n %% cardinality(%(members)s)], 1 + n %% 100, 0, 'adjustment', '', '',
                   'bench', 'cli', now() - (n %% 120) * interval '1 day'
              FROM generate_series(1, 200000) n
            """,
            {"members": member_ids},
        )
        cursor.execute("VACUUM ANALYZE coupons_coupon, coupons_couponredemption, offers_offerresponse")


def timed(function):
    started = time.perf_counter()
    result = function()
    return result, time.perf_counter() - started


def renders(client, count):
    timings, queries = [], 0
    client.get("/admin/")  # warm: templates compiled, session read once
    for _ in range(count):
        with CaptureQueriesContext(connection) as captured:
            response, seconds = timed(lambda: client.get("/admin/"))
        assert response.status_code == 200, response.status_code
        timings.append(seconds)
        queries = len(captured)
    return statistics.median(timings), min(timings), queries, response.content.decode()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--coupons", type=int, default=1_000_000)
    parser.add_argument("--responses", type=int, default=400_000)
    parser.add_argument("--series", type=int, default=40)
    parser.add_argument("--renders", type=int, default=10)
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("Set DATABASE_URL to a PostgreSQL database.")

    connection.settings_dict.setdefault("TEST", {})["NAME"] = f"{connection.settings_dict['NAME']}_bench_dashboard"
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        from django.contrib.auth.models import User

        from coupons.models import CouponSeries
        from exports.dashboard.services import dashboard_days_refresh
        from members.models import Member, OrgEntity
        from offers.models import Offer

        members = [Member.objects.create(external_id=f"BENCH-{n}").pk for n in range(50)]
        store = OrgEntity.objects.create(code="S-BENCH", type="store", name="Bench store")
        offers = [Offer.objects.create(external_id=f"BENCH-OFFER-{n}", name=f"Offer {n}").pk for n in range(4)]
        series = [
            CouponSeries.objects.create(offer_id=offers[n % 4], name=f"Series {n}", code_mode="upload",
                                        discount_value=5, discount_currency="EUR" if n % 2 else "USD").pk
            for n in range(args.series)
        ]  # fmt: skip
        _, seconds = timed(lambda: load(args, member_ids=members, store_id=store.pk, series_ids=series,
                                        offer_ids=offers))  # fmt: skip
        print(f"loaded {args.coupons:,} coupons, their redemptions, {args.responses:,} responses: {seconds:.1f} s")

        today = timezone.localdate()
        written, backfill = timed(lambda: dashboard_days_refresh(days=[today - timedelta(days=n) for n in range(90)]))
        _, recent = timed(lambda: dashboard_days_refresh(days=[today - timedelta(days=1), today]))
        print(f"rebuild of 90 days: {backfill:.1f} s ({written:,} figures); of today and yesterday: {recent:.1f} s")

        User.objects.create_superuser("bench", "bench@example.com", "bench-password-1")
        client = Client()
        client.force_login(User.objects.get(username="bench"))
        median, best, queries, html = renders(client, args.renders)
        assert 'id="dashboard"' in html
        without = {**settings.UNFOLD, "DASHBOARD_CALLBACK": None}
        with override_settings(UNFOLD=without):
            base_median, base_best, base_queries, base_html = renders(client, args.renders)
        assert 'id="dashboard"' not in base_html
        print(f"dashboard index: median {median * 1000:.0f} ms (best {best * 1000:.0f} ms), {queries} queries")
        print(f"baseline index without the dashboard: median {base_median * 1000:.0f} ms "
              f"(best {base_best * 1000:.0f} ms), {base_queries} queries")  # fmt: skip
        print(f"ratio dashboard / baseline: {median / base_median:.2f}x")
    finally:
        connection.close()
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
