from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.coupons.factories import CouponFactory
from till.checkouts.models import Checkout

pytestmark = pytest.mark.django_db


def open_checkout(pos, body, transaction_id):
    response = pos.post("/api/v1/checkouts", {**body, "transaction_id": transaction_id}, format="json")
    assert response.status_code == 201
    return response.json()["id"]


def test_checkouts_list_filters_the_open_holds(admin_client, pos, basket, member):
    held = open_checkout(pos, basket([CouponFactory(member=member).code]), "T-OPEN")
    lapsed = open_checkout(pos, basket(), "T-LAPSED")
    Checkout.objects.filter(pk=lapsed).update(expires_at=timezone.now() - timedelta(seconds=1))
    url = reverse("admin:till_checkout_changelist")

    page = admin_client.get(url, {"holds": "open"}).content.decode()

    assert "T-OPEN" in page and "T-LAPSED" not in page
    assert "T-LAPSED" in admin_client.get(url, {"holds": "lapsed"}).content.decode()
    detail = admin_client.get(reverse("admin:till_checkout_change", args=[held]))
    assert detail.status_code == 200


def test_a_coupons_history_shows_its_holds(admin_client, pos, basket, member):
    coupon = CouponFactory(member=member)
    checkout = open_checkout(pos, basket([coupon.code]), "T-HIST")
    pos.post(f"/api/v1/checkouts/{checkout}/cancel")

    page = admin_client.get(reverse("admin:coupons_coupon_history", args=[coupon.pk])).content.decode()

    assert f"Held by checkout {checkout} (transaction T-HIST)" in page
    assert "Hold released" in page and "The checkout was canceled" in page
