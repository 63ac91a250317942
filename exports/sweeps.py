"""Scheduled sweeps across apps: one service that beat, the task and `manage.py expire_due` all call."""

from datetime import datetime

from django.utils import timezone

from config.actors import Actor
from coupons.expiry_sweep import coupons_expire_due
from offers.response_services import offer_responses_expire_due


def expire_due(*, actor: Actor, now: datetime | None = None) -> dict[str, int]:
    """Expire offer responses and coupons whose expiry has passed; returns how many of each moved.

    Each sweep commits in its own short batches, so an interrupted run keeps what it did and the next
    run (or a retry) picks up the rest without expiring anything twice.
    """
    now = now or timezone.now()
    return {
        "offer_responses": offer_responses_expire_due(actor=actor, at=now, batch_size=10_000),
        "coupons": coupons_expire_due(actor=actor, now=now),
    }
