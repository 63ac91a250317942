"""Refused redemptions at the till are kept per member, for member care's "Why not?"; nothing else is."""

import pytest
from django.urls import reverse

from members.models import TillRefusal
from members.why_not import till_refusals_why
from tests.coupons.factories import CouponFactory, CouponSeriesFactory
from tests.coupons.redemption.till_requests import REDEEM, VALIDATE, body

pytestmark = pytest.mark.django_db


def test_a_refused_redeem_is_kept_with_its_reasons_store_and_till(pos, store):
    coupon = CouponFactory(series=CouponSeriesFactory(min_bill=100))

    response = pos.post(REDEEM, body(coupon, store, bill_amount="5.00"), format="json")

    assert response.status_code == 409
    refusal = TillRefusal.objects.get()
    assert (refusal.member_id, refusal.store_id, refusal.action, refusal.code) == (
        coupon.member_id, store.pk, "redeem", coupon.code,
    )  # fmt: skip
    assert refusal.reasons == ["bill_below_minimum"] and refusal.channel == "api:pos"


def test_a_redeem_that_goes_through_and_a_refused_validate_keep_nothing(pos, store):
    coupon = CouponFactory(series=CouponSeriesFactory(min_bill=100))

    assert pos.post(VALIDATE, body(coupon, store, bill_amount="5.00"), format="json").json()["valid"] is False
    assert pos.post(REDEEM, body(CouponFactory(), store), format="json").status_code == 201
    assert not TillRefusal.objects.exists()


def test_a_replayed_refusal_is_kept_once(pos, store):
    coupon = CouponFactory(redeemed=True)

    for _ in range(2):
        response = pos.post(REDEEM, body(coupon, store), format="json", HTTP_IDEMPOTENCY_KEY="till-refused")
        assert response.status_code == 409

    assert TillRefusal.objects.get().reasons == ["already_redeemed"]


def test_why_not_lists_the_members_refusals_newest_first_in_words(pos, store, admin_client):
    coupon = CouponFactory(redeemed=True)
    pos.post(REDEEM, body(coupon, store), format="json")
    pos.post(REDEEM, body(coupon, store, code="NO-SUCH-CODE"), format="json")

    rows = till_refusals_why(member=coupon.member)
    html = admin_client.get(reverse("admin:members_member_change", args=[coupon.member_id])).content.decode()

    assert [row.code for row in rows] == ["NO-SUCH-CODE", coupon.code]
    assert [(reason.code, reason.sentence) for reason in rows[1].reasons] == [
        ("already_redeemed", "The coupon has already been redeemed.")
    ]
    assert html.count('class="till-refusal"') == 2 and "No coupon has this code." in html
