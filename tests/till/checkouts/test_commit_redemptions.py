"""A commit redeems every held coupon with the rows, events and webhooks a redemption writes, in as few statements
as the database allows, and records no redemption when one coupon can no longer move (the commit then rolls back)."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from config.actors import Actor
from coupons.models import Coupon, CouponEvent, CouponRedemption
from coupons.redemption import rules
from coupons.redemption import statements as till
from tests.coupons.factories import CouponFactory
from till.checkouts.models import Checkout, CheckoutEvent, CheckoutHold
from webhooks.models import Event as WebhookEvent

pytestmark = pytest.mark.django_db

postgresql_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="a data-modifying CTE")


def test_commit_writes_each_held_coupons_redemption_event_and_webhook(open_checkout, commit, basket, member):
    coupons = [CouponFactory(member=member, series__discount_value=Decimal(n)) for n in (1, 2, 3)]
    opened = open_checkout(basket([coupon.code for coupon in coupons]))

    answer = commit(opened["id"])

    assert answer.status_code == 200, answer.json()
    redemptions = {row.coupon_id: row for row in CouponRedemption.objects.filter(coupon__in=coupons)}
    assert len(redemptions) == 3
    assert answer.json()["redemptions"] == [
        {"redemption_id": redemptions[c.pk].pk, "code": c.code, "discount_amount": f"{n}.00"}
        for n, c in zip((1, 2, 3), coupons, strict=True)
    ]
    for coupon in coupons:
        coupon.refresh_from_db()
        assert (coupon.status, coupon.held_by_checkout, coupon.held_until, coupon.is_reversed) == (
            "redeemed", None, None, False,
        )  # fmt: skip
        assert redemptions[coupon.pk].transaction_id == "T-1"
        assert (
            sum(Decimal(v) for v in redemptions[coupon.pk].line_discounts.values())
            == redemptions[coupon.pk].discount_amount
        )
        moves = CouponEvent.objects.filter(coupon_id=coupon.pk, new_status="redeemed")
        assert list(moves.values_list("old_status", "reason")) == [("issued", "redeemed")]
        webhook = WebhookEvent.objects.get(type="coupon.redeemed", object_id=str(coupon.pk))
        assert (webhook.data["redemption_id"], webhook.data["status"], webhook.data["code"]) == (
            redemptions[coupon.pk].pk, "redeemed", coupon.code,
        )  # fmt: skip
        assert webhook.data["transaction_id"] == "T-1"
    assert not CheckoutHold.objects.filter(checkout_id=opened["id"], released_at__isnull=True).exists()
    events = CheckoutEvent.objects.filter(checkout_id=opened["id"]).order_by("pk")
    assert list(events.values_list("old_status", "new_status", "reason")) == [
        ("", "held", "opened"), ("held", "committed", "paid"),
    ]  # fmt: skip
    assert Checkout.objects.get(pk=opened["id"]).committed_body == answer.json()


def test_commit_statements_do_not_grow_with_its_coupons(open_checkout, commit, basket, member):
    def committed_statements(count, transaction_id):
        coupons = [CouponFactory(member=member, series__discount_value=Decimal(1)) for _ in range(count)]
        opened = open_checkout(basket([coupon.code for coupon in coupons]), transaction_id=transaction_id)
        with CaptureQueriesContext(connection) as captured:
            assert commit(opened["id"]).status_code == 200
        return len(captured.captured_queries)

    one, three = committed_statements(1, "T-1"), committed_statements(3, "T-3")
    if connection.vendor == "postgresql":
        assert three == one
    else:  # the ORM's writes, per coupon: its move, the move's event, the redemption, its webhook, its series' count
        assert three - one == 2 * 5


@postgresql_only
def test_held_redemptions_record_nothing_when_a_coupon_moved_meanwhile(member, store):
    coupons = [CouponFactory(member=member) for _ in range(2)]
    redemptions = [
        CouponRedemption(coupon=coupon, series=coupon.series, member=member, store=store, bill_amount=Decimal(10),
                         discount_amount=Decimal(1), currency="USD", transaction_id="T-9", redeemed_at=timezone.now(),
                         actor="till", channel="api:pos")
        for coupon in coupons
    ]  # fmt: skip
    Coupon.objects.filter(pk=coupons[1].pk).update(status=Coupon.Status.REVOKED)

    refusal = till.held_redemptions_write(redemptions=redemptions, old="issued", to="redeemed",
                                          actor=Actor(name="till", channel="api:pos"), checkout_id=1)  # fmt: skip

    assert refusal == rules.ALREADY_REDEEMED
    assert not CouponRedemption.objects.filter(transaction_id="T-9").exists()
    assert not WebhookEvent.objects.filter(type="coupon.redeemed").exists()
