from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.coupons.factories import ReminderDeliveryFactory

pytestmark = pytest.mark.django_db


def test_reminder_delivery_admin_lists_deliveries_read_only(admin_client):
    delivery = ReminderDeliveryFactory(
        failed=True,
        reminder__days_before_expiry=2,
        coupon__code="SHOWME1",
        coupon__expires_at=timezone.now() + timedelta(days=2),
        recipient="+15550009",
    )

    listing = admin_client.get(reverse("admin:coupons_reminderdelivery_changelist"))
    page = admin_client.get(reverse("admin:coupons_reminderdelivery_change", args=[delivery.pk]))

    assert listing.status_code == 200
    assert "SHOWME1" in listing.content.decode()
    assert page.status_code == 200
    assert "gateway down" in page.content.decode()
    assert admin_client.get(reverse("admin:coupons_reminderdelivery_add")).status_code == 403
