"""Opening writes the checkout, its event, its coupons' holds and its hold rows in one statement on PostgreSQL; a
commit locks the checkout and releases its holds in one. The outcome is the one the separate writes had."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.coupons.factories import CouponFactory
from till.checkouts.models import Checkout, CheckoutEvent, CheckoutHold

pytestmark = pytest.mark.django_db

postgresql_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="a data-modifying CTE")


def test_an_opening_holds_every_coupon_with_its_rows_and_event(open_checkout, basket, member):
    coupons = [CouponFactory(member=member, series__discount_value=Decimal(n)) for n in (1, 2)]

    with CaptureQueriesContext(connection) as captured:
        opened = open_checkout(basket([coupon.code for coupon in coupons]))

    checkout = Checkout.objects.get(pk=opened["id"])
    for coupon in coupons:
        coupon.refresh_from_db()
        assert (coupon.held_by_checkout, coupon.held_until) == (checkout.pk, checkout.expires_at)
    holds = CheckoutHold.objects.filter(checkout=checkout).order_by("coupon_id")
    assert [(hold.kind, hold.coupon_id, hold.code, hold.released_at) for hold in holds] == [
        ("coupon", coupon.pk, coupon.code, None) for coupon in sorted(coupons, key=lambda coupon: coupon.pk)
    ]
    assert [hold.discount_amount for hold in holds] == [Decimal("1.00"), Decimal("2.00")]
    assert all(hold.held_at == checkout.created_at for hold in holds)
    assert list(CheckoutEvent.objects.filter(checkout=checkout).values_list("new_status", "reason")) == [
        ("held", "opened")
    ]
    if connection.vendor == "postgresql":
        writes = [query["sql"] for query in captured.captured_queries if "till_checkout" in query["sql"]]
        assert len(writes) == 1 and "coupons_coupon" in writes[0] and "till_checkouthold" in writes[0]


def test_a_coupon_another_checkout_holds_leaves_the_opening_without_it(open_checkout, basket, member):
    held, free = CouponFactory(member=member), CouponFactory(member=member)
    first = open_checkout(basket([held.code]), transaction_id="T-1")

    second = open_checkout(basket([held.code, free.code]), transaction_id="T-2")

    answers = {coupon["code"]: coupon for coupon in second["coupons"]}
    assert answers[held.code]["applies"] is False
    assert "held_by_another_checkout" in answers[held.code]["reasons"]
    assert answers[free.code]["applies"] is True
    held.refresh_from_db(), free.refresh_from_db()
    assert (held.held_by_checkout, free.held_by_checkout) == (first["id"], second["id"])
    assert list(CheckoutHold.objects.filter(checkout_id=second["id"]).values_list("coupon_id", flat=True)) == [free.pk]


def test_commit_releases_the_holds_it_redeems_and_an_expired_commit_releases_none(
    open_checkout, commit, basket, member
):
    paid, lapsing = CouponFactory(member=member), CouponFactory(member=member)
    opened = open_checkout(basket([paid.code]), transaction_id="T-1")
    expired = open_checkout(basket([lapsing.code]), transaction_id="T-2")
    Checkout.objects.filter(pk=expired["id"]).update(expires_at=timezone.now() - timedelta(seconds=1))

    assert commit(opened["id"]).status_code == 200
    refused = commit(expired["id"])

    assert refused.status_code == 409 and refused.json()["code"] == "hold_expired"
    assert not CheckoutHold.objects.filter(checkout_id=opened["id"], released_at__isnull=True).exists()
    assert CheckoutHold.objects.filter(checkout_id=expired["id"], released_at__isnull=True).count() == 1  # the sweep's
    assert commit(opened["id"]).json()["status"] == "committed"  # a repeat replays, releasing nothing more


@postgresql_only
def test_an_offer_response_keeps_one_open_hold(member, store):
    """The partial unique index on open response holds survives the migrations that dropped the column's plain one."""
    checkouts = [
        Checkout.objects.create(member=member, store=store, transaction_id=f"T-{n}", expires_at=timezone.now(),
                                basket={}, evaluation={}, actor="test", channel="test")
        for n in range(2)
    ]  # fmt: skip
    CheckoutHold.objects.create(checkout=checkouts[0], kind="offer_response", offer_response_id=7)
    with pytest.raises(IntegrityError), transaction.atomic():
        CheckoutHold.objects.create(checkout=checkouts[1], kind="offer_response", offer_response_id=7)
