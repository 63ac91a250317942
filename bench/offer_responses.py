"""Benchmark: the offer response expiry sweep and the completion path.

Runs against a throw-away test database on whatever DATABASE_URL points at (SQLite by default):

    .venv/bin/python bench/offer_responses.py [--responses 20000] [--batch 1000] [--completions 500]

Prints responses expired per second by the batched sweep against a baseline of the same expiry done one
response at a time through offer_response_transition (measured in the same run), and completions per
second through offer_response_transition with the query count of one completion.
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


def make_responses(count, *, offer, members, expires_at):
    from offers.models import OfferResponse

    OfferResponse.objects.bulk_create(
        (
            OfferResponse(
                member=members[n % len(members)],
                offer=offer,
                status="pending",
                one_open_only=False,
                offer_snapshot={"fulfillment_flow": "standard"},
                expires_at=expires_at,
            )
            for n in range(count)
        ),
        batch_size=5000,
    )


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--responses", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--completions", type=int, default=500)
    args = parser.parse_args()

    connection.settings_dict.setdefault("TEST", {})["NAME"] = f"bench_responses_{os.getpid()}"
    if connection.vendor == "sqlite":
        connection.settings_dict["TEST"]["NAME"] = ":memory:"
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        from config.actors import Actor
        from members.models import Member
        from offers.models import Offer, OfferResponse
        from offers.responses.services import offer_response_transition, offer_responses_expire_due

        actor = Actor.cli("bench")
        members = Member.objects.bulk_create(Member(external_id=f"BR-{n:05d}") for n in range(200))
        offer = Offer.objects.create(external_id="BR-OFFER", name="Bench", allow_multiple_responses=True)
        past = timezone.now() - timedelta(minutes=1)
        print(f"database: {connection.vendor}")

        baseline_count = max(args.responses // 20, 100)
        make_responses(baseline_count, offer=offer, members=members, expires_at=past)
        started = time.perf_counter()
        for response in OfferResponse.objects.filter(status="pending").order_by("pk"):
            offer_response_transition(response=response, to_status="expired", actor=actor)
        base_rate = baseline_count / (time.perf_counter() - started)

        make_responses(args.responses, offer=offer, members=members, expires_at=past)
        make_responses(args.responses, offer=offer, members=members, expires_at=None)  # never due
        started = time.perf_counter()
        expired = offer_responses_expire_due(actor=actor, batch_size=args.batch)
        rate = expired / (time.perf_counter() - started)
        print(f"one at a time through offer_response_transition: {base_rate:10.0f} responses/s ({baseline_count})")
        print(f"offer_responses_expire_due, batches of {args.batch}:  {rate:10.0f} responses/s ({expired})")
        print(f"ratio sweep / one at a time: {rate / base_rate:.1f}")

        make_responses(args.completions, offer=offer, members=members, expires_at=None)
        pending = list(OfferResponse.objects.filter(status="pending", expires_at__isnull=True).order_by("pk"))
        todo = pending[: args.completions]
        with CaptureQueriesContext(connection) as captured:
            offer_response_transition(response=todo[0], to_status="completed", actor=actor)
        started = time.perf_counter()
        for response in todo[1:]:
            offer_response_transition(response=response, to_status="completed", actor=actor)
        completion_rate = (len(todo) - 1) / (time.perf_counter() - started)
        print(f"completion: {len(captured)} queries each, {completion_rate:.0f} completions/s (one connection)")
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
