"""Benchmark: the coupon expiry sweep on 1,000,000 due coupons (goal: under 20 s on PostgreSQL).

Runs in a throw-away database of its own on whatever DATABASE_URL points at (PostgreSQL for the figure
that matters; the due coupons are loaded with COPY there):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/od .venv/bin/python bench/expiry_sweep.py \
        [--coupons 1000000] [--live 1000000] [--batch 20000] [--workers N] [--baseline 2000]

Prints the sweep's coupons/s and total time, against a baseline measured in the same run: the same
expiry done one coupon at a time through coupons.lifecycle.status.coupon_transition (a sample, extrapolated).
`--live` adds coupons that are not due (expiring next year), so the sweep has to find the due ones.
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

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

COLUMNS = (
    "series_id, code, is_common, member_id, status, issued_at, expires_at, is_reversed, last_status_change_on, "
    "created_at"
)


def load_coupons(count, *, series, member, expires_at, prefix, first_member_id=None):
    """Issued coupons with COPY on PostgreSQL, bulk_create elsewhere.

    With `first_member_id`, each coupon gets a member id of its own (first_member_id + n), as a real table has a
    few coupons per member: a million coupons of one member would make the member index one long run of
    equal keys, which is not what the sweep meets. Coupons do not reference members by foreign key, so
    the ids need no member rows here.
    """
    from coupons.models import Coupon

    now = timezone.now()
    if connection.vendor != "postgresql":
        Coupon.objects.bulk_create(
            (Coupon(series=series, code=f"{prefix}{n:09d}", member=member, status="issued", issued_at=now,
                    expires_at=expires_at) for n in range(count)),
            batch_size=5000,
        )  # fmt: skip
        return
    connection.ensure_connection()
    with connection.connection.cursor() as cursor, cursor.copy(f"COPY coupons_coupon ({COLUMNS}) FROM STDIN") as copy:
        for n in range(count):
            copy.write_row(
                (
                    series.pk,
                    f"{prefix}{n:09d}",
                    False,
                    member.pk if first_member_id is None else first_member_id + n,
                    "issued",
                    now,
                    expires_at,
                    False,
                    now,
                    now,
                )
            )


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--coupons", type=int, default=1_000_000)
    parser.add_argument("--live", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=20_000)
    parser.add_argument("--baseline", type=int, default=2_000)
    parser.add_argument(
        "--workers", type=int, default=None, help="connections sweeping side by side (default EXPIRY_SWEEP_WORKERS)"
    )
    args = parser.parse_args()

    connection.settings_dict.setdefault("TEST", {})["NAME"] = f"bench_expiry_{os.getpid()}"
    if connection.vendor == "sqlite":
        connection.settings_dict["TEST"]["NAME"] = ":memory:"
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        from config.actors import Actor
        from coupons.lifecycle.expiry_sweep import coupons_expire_due
        from coupons.lifecycle.status import coupon_transition
        from coupons.models import Coupon, CouponSeries
        from members.models import Member
        from offers.models import Offer

        actor = Actor.cli("bench")
        member = Member.objects.create(external_id="BENCH-1")
        offer = Offer.objects.create(external_id="BENCH-OFFER", name="Bench")
        series = CouponSeries.objects.create(offer=offer, name="Bench", code_mode="upload")
        past = timezone.now() - timedelta(minutes=1)
        print(f"database: {connection.vendor}")

        load_coupons(args.baseline, series=series, member=member, expires_at=past, prefix="BASE")
        started = time.perf_counter()
        for coupon in Coupon.objects.filter(status="issued").order_by("pk"):
            coupon_transition(coupon=coupon, to="expired", actor=actor, reason="expired")
        base_rate = args.baseline / (time.perf_counter() - started)

        started = time.perf_counter()
        load_coupons(
            args.coupons, series=series, member=member, expires_at=past, prefix="DUE", first_member_id=member.pk + 1
        )
        load_coupons(
            args.live,
            series=series,
            member=member,
            expires_at=past + timedelta(days=365),
            prefix="LIVE",
            first_member_id=member.pk + 1 + args.coupons,
        )
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("VACUUM ANALYZE coupons_coupon")
                # Write out the load's dirty pages now, so the timed sweep does not pay for the load's checkpoint.
                cursor.execute("CHECKPOINT")
        print(f"loaded {args.coupons:,} due and {args.live:,} live coupons in {time.perf_counter() - started:.1f} s")

        started = time.perf_counter()
        workers = args.workers or settings.EXPIRY_SWEEP_WORKERS
        expired = coupons_expire_due(actor=actor, batch_size=args.batch, workers=workers)
        seconds = time.perf_counter() - started
        assert expired == args.coupons, (expired, args.coupons)
        rate = expired / seconds
        extrapolated = args.coupons / base_rate
        print(
            f"one at a time through coupon_transition: {base_rate:10.0f} coupons/s "
            f"(sample of {args.baseline:,}; {extrapolated:.0f} s extrapolated to {args.coupons:,})"
        )
        print(
            f"coupons_expire_due, batches of {args.batch:,}, {workers} workers: {rate:10.0f} coupons/s "
            f"({expired:,} in {seconds:.1f} s, goal < 20 s for 1,000,000)"
        )
        print(f"ratio sweep / one at a time: {rate / base_rate:.1f}")
        started = time.perf_counter()
        again = coupons_expire_due(actor=actor, batch_size=args.batch)
        print(f"rerun: {again} expired in {time.perf_counter() - started:.2f} s")
    finally:
        connection.close()
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
