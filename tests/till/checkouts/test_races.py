"""Checkout races on PostgreSQL, each caller on its own thread and connection."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from config.actors import Actor
from coupons.exceptions import RedemptionError
from coupons.models import Coupon, CouponRedemption
from coupons.redemption import holds, services
from coupons.redemption import statements as till_statements
from offers.models import Transaction
from tests.concurrency import run_callers, run_concurrently
from tests.coupons.factories import CouponFactory
from till.checkouts import services as checkouts
from till.checkouts.models import Checkout

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
ACTOR = Actor.system("tests")


def till(token):
    http = APIClient()
    http.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return http


def test_fifty_checkouts_holding_one_coupon_leave_exactly_one_holding_it(pos, basket, member):
    coupon = CouponFactory(member=member)

    def open_one(index):
        body = {**basket([coupon.code]), "transaction_id": f"T-{index}"}
        response = till(pos.token).post("/api/v1/checkouts", body, format="json")
        return response.status_code, response.json()

    answers = run_concurrently(50, open_one)

    assert [status for status, _ in answers] == [201] * 50
    holding = [body for _, body in answers if body["coupons"][0]["applies"]]
    assert len(holding) == 1
    refused = [body["coupons"][0]["reasons"] for _, body in answers if not body["coupons"][0]["applies"]]
    assert refused == [["held_by_another_checkout"]] * 49
    assert Coupon.objects.get(pk=coupon.pk).held_by_checkout == holding[0]["id"]


def open_for(member, store, coupon, transaction_id="T-1"):
    from till.baskets.selectors import BasketLine

    return checkouts.checkout_open(
        member=member, store=store, transaction_id=transaction_id,
        lines=[BasketLine(line_ref="1", sku="MILK", quantity=1, unit_price=Decimal("20"))],
        coupon_codes=[coupon.code], offer_response_ids=[], basket={}, actor=ACTOR,
    )  # fmt: skip


@pytest.mark.parametrize("round_", range(5))
def test_commit_racing_cancel_exactly_one_wins(member, store, round_):
    coupon = CouponFactory(member=member)
    checkout = open_for(member, store, coupon)

    outcomes = run_callers([
        lambda: checkouts.checkout_commit(checkout_id=checkout.pk, actor=ACTOR),
        lambda: checkouts.checkout_cancel(checkout_id=checkout.pk, actor=ACTOR),
    ])  # fmt: skip

    winners = [outcome for outcome in outcomes if outcome.error is None]
    assert len(winners) == 1
    assert [outcome.refusal for outcome in outcomes if outcome.error is not None] == ["illegal_transition"]
    status = Checkout.objects.get(pk=checkout.pk).status
    redeemed = CouponRedemption.objects.filter(coupon=coupon).count()
    assert (status, redeemed) in {("committed", 1), ("canceled", 0)}
    assert Coupon.objects.get(pk=coupon.pk).held_by_checkout is None


def test_commit_after_expiry_racing_the_sweep_is_hold_expired(member, store):
    coupon = CouponFactory(member=member)
    checkout = open_for(member, store, coupon)
    Checkout.objects.filter(pk=checkout.pk).update(expires_at=timezone.now() - timedelta(seconds=1))

    outcomes = run_callers([
        lambda: checkouts.checkout_commit(checkout_id=checkout.pk, actor=ACTOR),
        lambda: checkouts.checkouts_expire_due(actor=ACTOR),
    ])  # fmt: skip

    assert outcomes[0].refusal == "hold_expired"
    assert outcomes[1].error is None
    checkouts.checkouts_expire_due(actor=ACTOR)  # the next run takes a checkout the commit had locked
    assert Checkout.objects.get(pk=checkout.pk).status == "expired"
    assert not CouponRedemption.objects.exists() and not Transaction.objects.exists()
    assert Coupon.objects.get(pk=coupon.pk).held_by_checkout is None


def test_a_hold_taken_after_the_tills_read_stops_its_one_statement_redemption(member, store):
    coupon = CouponFactory(member=member)
    read = till_statements.coupon_with_series(code=coupon.code, member_id=member.pk)
    assert holds.coupon_hold(coupon_id=coupon.pk, checkout_id=424242, until=timezone.now() + timedelta(minutes=5),
                             now=timezone.now())  # fmt: skip

    with pytest.raises(RedemptionError) as refused:
        services.coupon_redeem_read(coupon=read, code=coupon.code, member=member, store=store,
                                    bill_amount=Decimal("20"), actor=ACTOR)  # fmt: skip

    assert refused.value.reasons == ["held_by_another_checkout"]
    assert Coupon.objects.get(pk=coupon.pk).status == "issued"
    assert not CouponRedemption.objects.exists()
