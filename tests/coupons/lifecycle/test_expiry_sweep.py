from datetime import timedelta

import pytest
from django.utils import timezone

from config.actors import Actor
from coupons.lifecycle.expiry_sweep import EXPIRY_REASON, coupons_expire_due
from coupons.models import Coupon, CouponEvent
from jobs.tasks import expire_due_task
from tests.concurrency import run_concurrently
from tests.coupons.factories import CouponFactory, CouponSeriesFactory

pytestmark = pytest.mark.django_db

ACTOR = Actor.task("sweep")


def _coupons(count, *, expires_at, status=Coupon.Status.ISSUED, series=None):
    series = series or CouponSeriesFactory()
    return [CouponFactory(series=series, expires_at=expires_at, status=status) for _ in range(count)]


def test_coupons_expire_due_expires_issued_coupons_past_expiry_with_events():
    now = timezone.now()
    due = _coupons(3, expires_at=now - timedelta(minutes=1))
    exactly_now = _coupons(1, expires_at=now)
    later = _coupons(2, expires_at=now + timedelta(minutes=1))
    no_expiry = _coupons(1, expires_at=None)

    assert coupons_expire_due(actor=ACTOR, now=now) == 4

    expired = Coupon.objects.filter(status=Coupon.Status.EXPIRED)
    assert set(expired.values_list("pk", flat=True)) == {c.pk for c in due + exactly_now}
    assert all(c.last_status_change_on >= now for c in expired)
    assert Coupon.objects.filter(pk__in=[c.pk for c in later + no_expiry], status="issued").count() == 3
    events = CouponEvent.objects.filter(reason=EXPIRY_REASON)
    assert events.count() == 4
    assert set(events.values_list("old_status", "new_status", "actor", "channel")) == {
        ("issued", "expired", "sweep", "task")
    }


def test_coupons_expire_due_leaves_other_statuses_alone():
    past = timezone.now() - timedelta(days=1)
    for status in (Coupon.Status.REDEEMED, Coupon.Status.REVOKED, Coupon.Status.UNISSUED):
        _coupons(1, expires_at=past, status=status)

    assert coupons_expire_due(actor=ACTOR) == 0
    assert not Coupon.objects.filter(status=Coupon.Status.EXPIRED).exists()
    assert not CouponEvent.objects.exists()


def test_coupons_expire_due_rerun_expires_nothing_twice():
    _coupons(3, expires_at=timezone.now() - timedelta(hours=1))

    assert coupons_expire_due(actor=ACTOR) == 3
    assert coupons_expire_due(actor=ACTOR) == 0
    assert CouponEvent.objects.count() == 3


@pytest.mark.parametrize("count,batch_size", [(4, 2), (5, 2), (2, 5), (3, 1)])
def test_coupons_expire_due_batch_boundaries(count, batch_size):
    _coupons(count, expires_at=timezone.now() - timedelta(hours=1))

    assert coupons_expire_due(actor=ACTOR, batch_size=batch_size) == count
    assert Coupon.objects.filter(status=Coupon.Status.EXPIRED).count() == count
    assert CouponEvent.objects.filter(new_status="expired").count() == count


def test_the_scheduled_expiry_task_runs_the_coupon_sweep():
    _coupons(2, expires_at=timezone.now() - timedelta(hours=1))

    assert expire_due_task.delay().get()["coupons"] == 2
    assert CouponEvent.objects.get(coupon=Coupon.objects.first()).actor == "expire_due_task"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_coupons_expire_due_with_several_workers_and_concurrent_sweeps_expires_each_coupon_once():
    _coupons(23, expires_at=timezone.now() - timedelta(hours=1))
    counts = run_concurrently(3, lambda index: coupons_expire_due(actor=ACTOR, batch_size=3, workers=3))

    assert sum(counts) == 23
    assert Coupon.objects.filter(status=Coupon.Status.EXPIRED).count() == 23
    assert CouponEvent.objects.count() == 23
    assert CouponEvent.objects.values("coupon_id").distinct().count() == 23
