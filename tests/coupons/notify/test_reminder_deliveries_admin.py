from datetime import time, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from coupons.models import Reminder, ReminderDelivery
from tests.coupons.factories import CouponFactory, CouponSeriesFactory

pytestmark = pytest.mark.django_db


def test_reminder_delivery_admin_lists_deliveries_read_only(admin_client):
    series = CouponSeriesFactory()
    reminder = Reminder.objects.create(series=series, days_before_expiry=2, channel="sms", time=time(9))
    coupon = CouponFactory(series=series, code="SHOWME1", expires_at=timezone.now() + timedelta(days=2))
    delivery = ReminderDelivery.objects.create(reminder=reminder, coupon=coupon, channel="sms", status="failed",
                                               claim_token="00000000-0000-0000-0000-000000000001",
                                               recipient="+15550009", error="gateway down")  # fmt: skip

    listing = admin_client.get(reverse("admin:coupons_reminderdelivery_changelist"))
    page = admin_client.get(reverse("admin:coupons_reminderdelivery_change", args=[delivery.pk]))

    assert listing.status_code == 200
    assert "SHOWME1" in listing.content.decode()
    assert page.status_code == 200
    assert "gateway down" in page.content.decode()
    assert admin_client.get(reverse("admin:coupons_reminderdelivery_add")).status_code == 403
