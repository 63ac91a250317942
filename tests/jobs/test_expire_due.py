from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from config.actors import Actor
from coupons.models import Coupon, CouponEvent
from jobs.sweeps import expire_due
from jobs.tasks import expire_due_task
from tests.coupons.factories import CouponFactory, CouponSeriesFactory
from tests.offers.factories import OfferResponseFactory

pytestmark = pytest.mark.django_db


def _due_response(*, expires_at):
    coupon_offer = CouponSeriesFactory().offer
    member = CouponFactory().member
    snapshot = {"fulfillment_flow": "standard"}
    return OfferResponseFactory(member=member, offer=coupon_offer, one_open_only=False, offer_snapshot=snapshot,
                                expires_at=expires_at)  # fmt: skip


def test_expire_due_runs_both_sweeps_and_returns_counts():
    past = timezone.now() - timedelta(hours=1)
    series = CouponSeriesFactory()
    for _ in range(3):
        CouponFactory(series=series, expires_at=past)
    response = _due_response(expires_at=past)

    counts = expire_due(actor=Actor.task("sweep"))

    assert counts == {"offer_responses": 1, "coupons": 3}
    response.refresh_from_db()
    assert response.status == "expired"
    assert expire_due(actor=Actor.task("sweep")) == {"offer_responses": 0, "coupons": 0}


def test_expire_due_command_prints_what_it_did():
    CouponFactory(expires_at=timezone.now() - timedelta(minutes=5))
    out = StringIO()

    call_command("expire_due", stdout=out)

    assert out.getvalue().strip() == "Expired 0 offer responses and 1 coupons."
    assert CouponEvent.objects.get().channel == "cli"


def test_expire_due_task_is_idempotent():
    CouponFactory(expires_at=timezone.now() - timedelta(minutes=5))

    assert expire_due_task.delay().get() == {"offer_responses": 0, "coupons": 1}
    assert expire_due_task.delay().get() == {"offer_responses": 0, "coupons": 0}
    assert Coupon.objects.get().status == "expired"
    assert CouponEvent.objects.count() == 1
