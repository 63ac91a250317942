"""Benchmark: judging and redeeming one offline batch, against the same redemptions made one request at a time.

Runs in a throw-away database of its own on whatever DATABASE_URL points at (SQLite in memory by default):

    DATABASE_URL=postgres://... .venv/bin/python bench/offline_batch.py [--rows 100000] [--baseline-rows 5000]

Prints rows/s for `offline_batch_record` over a batch of `--rows` one-time coupons (every row accepted), and for
the baseline measured in the same run: `coupon_redeem` called once per coupon, each in its own transaction, as the
till does online, over `--baseline-rows` other coupons of the same series. The ratio says what judging a batch
as one unit costs or saves a row against redeeming its rows one by one.
"""

import argparse
import os
import sys
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.development")

import django

django.setup()

from django.db import connection  # noqa: E402


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--baseline-rows", type=int, default=5_000)
    args = parser.parse_args()

    connection.settings_dict.setdefault("TEST", {})["NAME"] = f"bench_offline_{os.getpid()}"
    if connection.vendor == "sqlite":
        connection.settings_dict["TEST"]["NAME"] = ":memory:"
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        from django.utils import timezone

        from config.actors import Actor
        from coupons.models import Coupon, CouponSeries
        from coupons.redemption.services import coupon_redeem
        from members.models import Member, OrgEntity
        from offers.models import Offer
        from till.offline.services import OfflineRow, offline_batch_record

        store = OrgEntity.objects.create(code="S-BENCH", type="store", name="Bench store")
        member = Member.objects.create(external_id="BENCH-1")
        expire_at = timezone.now() + timedelta(days=9)
        offer = Offer.objects.create(external_id="OFF-BENCH", name="Bench", expire_at=expire_at)
        series = CouponSeries.objects.create(
            offer=offer, name="Bench", code_mode="unique", code_length=10, code_charset="alphanumeric",
            discount_type="fixed", discount_value=5, discount_currency="USD", expiry_mode="with_offer",
        )  # fmt: skip
        now = timezone.now()
        total = args.rows + args.baseline_rows
        for start in range(0, total, 50_000):
            Coupon.objects.bulk_create(
                Coupon(series=series, code=f"OFF{n:08d}", member=member, status="issued", issued_at=now)
                for n in range(start, min(total, start + 50_000))
            )
        at = now - timedelta(hours=1)
        actor = Actor.system("bench")

        started = time.perf_counter()
        for n in range(args.rows, total):
            coupon_redeem(code=f"OFF{n:08d}", member=member, store=store, bill_amount=Decimal("20.00"), at=at,
                          actor=actor)  # fmt: skip
        baseline = args.baseline_rows / (time.perf_counter() - started)

        rows = [
            OfflineRow(f"OFF{n:08d}", member.external_id, at + timedelta(microseconds=n), Decimal("20.00"))
            for n in range(args.rows)
        ]
        started = time.perf_counter()
        batch, _ = offline_batch_record(batch_id="B-BENCH", store=store, rows=rows, actor=actor)
        seconds = time.perf_counter() - started
        assert batch.accepted_count == args.rows, batch.rejected_count

        started = time.perf_counter()
        replay, created = offline_batch_record(batch_id="B-BENCH", store=store, rows=rows, actor=actor)
        replay_seconds = time.perf_counter() - started
        assert not created and replay.pk == batch.pk

        print(f"database: {connection.vendor}")
        print(f"baseline, coupon_redeem one by one ({args.baseline_rows:,} rows): {baseline:,.0f} rows/s")
        print(f"offline batch ({args.rows:,} rows): {seconds:.1f} s, {args.rows / seconds:,.0f} rows/s, "
              f"{args.rows / seconds / baseline:.2f}x the baseline")  # fmt: skip
        print(f"the same batch again (replay): {replay_seconds:.2f} s")
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
