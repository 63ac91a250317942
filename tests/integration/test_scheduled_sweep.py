"""The expiry sweep through a real Celery worker on Redis and PostgreSQL."""

from datetime import timedelta

import pytest
from django.utils import timezone

from coupons.models import Coupon, CouponEvent
from jobs.tasks import expire_due_task
from tests.coupons.factories import CouponFactory, CouponSeriesFactory
from tests.integration.conftest import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_scheduled_expire_due_task_expires_due_coupons_once_through_the_worker(celery_worker):
    series = CouponSeriesFactory()
    past, future = timezone.now() - timedelta(minutes=5), timezone.now() + timedelta(days=5)
    due = [CouponFactory(series=series, expires_at=past) for _ in range(30)]
    live = [CouponFactory(series=series, expires_at=future) for _ in range(5)]

    expire_due_task.delay()
    wait_for(lambda: Coupon.objects.filter(status="expired").count() == 30, message="30 coupons expired")
    expire_due_task.delay()  # a second run (as beat would send) finds nothing to do
    expire_due_task.delay()
    wait_for(lambda: celery_worker.output().count("succeeded") >= 3, message="three sweeps finished")

    assert set(Coupon.objects.filter(status="expired").values_list("pk", flat=True)) == {c.pk for c in due}
    assert Coupon.objects.filter(pk__in=[c.pk for c in live], status="issued").count() == 5
    events = CouponEvent.objects.filter(new_status="expired")
    assert events.count() == 30
    assert set(events.values_list("actor", "channel", "reason")) == {("expire_due_task", "task", "expired")}
