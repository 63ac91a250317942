from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import override_settings
from django.utils import timezone

from config.actors import Actor
from coupons.models import Coupon, CouponRedemption
from offers.models import OfferResponse, Transaction
from tests.coupons.factories import CouponFactory
from tests.members.factories import OrgEntityFactory
from tests.offers.factories import EarningMechanismFactory, OfferResponseFactory
from till.checkouts.models import Checkout, CheckoutEvent, CheckoutHold
from till.checkouts.services import checkouts_expire_due
from webhooks.models import Event as WebhookEvent

pytestmark = pytest.mark.django_db


def lapse(checkout_id):
    Checkout.objects.filter(pk=checkout_id).update(expires_at=timezone.now() - timedelta(seconds=1))
    Coupon.objects.filter(held_by_checkout=checkout_id).update(held_until=timezone.now() - timedelta(seconds=1))


def test_open_holds_the_applying_coupons_and_responses_until_expiry(open_checkout, pos, basket, member):
    coupon = CouponFactory(member=member)
    response_row = OfferResponseFactory(member=member)
    before = timezone.now()
    body = open_checkout(basket([coupon.code], [response_row.pk]))
    assert body["status"] == "held"
    assert body["coupons"][0]["applies"] is True
    held = Coupon.objects.get(pk=coupon.pk)
    assert held.held_by_checkout == body["id"]
    assert before + timedelta(seconds=299) < held.held_until <= timezone.now() + timedelta(seconds=300)
    assert CheckoutHold.objects.filter(checkout_id=body["id"], released_at__isnull=True).count() == 2
    assert pos.get(f"/api/v1/checkouts/{body['id']}").json()["status"] == "held"


@override_settings(CHECKOUT_HOLD_SECONDS=60)
def test_open_uses_the_hold_setting(open_checkout, basket):
    body = open_checkout(basket())
    checkout = Checkout.objects.get(pk=body["id"])
    assert timedelta(seconds=55) < checkout.expires_at - checkout.created_at <= timedelta(seconds=60)


def test_a_held_coupon_answers_held_by_another_checkout_to_others(open_checkout, pos, basket, member, store):
    coupon = CouponFactory(member=member)
    open_checkout(basket([coupon.code]))
    second = open_checkout(basket([coupon.code]), transaction_id="T-2")
    assert second["coupons"][0]["reasons"] == ["held_by_another_checkout"]
    bill = {"code": coupon.code, "member": member.external_id, "store": store.code, "bill_amount": "60"}
    validate = pos.post("/api/v1/coupons/validate", bill, format="json").json()
    assert validate["reasons"] == ["held_by_another_checkout"]
    redeem = pos.post("/api/v1/coupons/redeem", bill, format="json")
    assert (redeem.status_code, redeem.json()["reasons"]) == (409, ["held_by_another_checkout"])
    assert pos.post("/api/v1/baskets/evaluate", basket([coupon.code]), format="json").json()["coupons"][0][
        "reasons"
    ] == ["held_by_another_checkout"]


def test_a_held_response_answers_held_by_another_checkout(open_checkout, basket, member):
    response_row = OfferResponseFactory(member=member)
    open_checkout(basket(offer_response_ids=[response_row.pk]))
    second = open_checkout(basket(offer_response_ids=[response_row.pk]), transaction_id="T-2")
    assert second["offer_responses"][0]["reasons"] == ["held_by_another_checkout"]


def test_commit_redeems_completes_and_records_in_one_go(open_checkout, commit, basket, member):
    coupon = CouponFactory(member=member, series__discount_value=Decimal("6"))
    response_row = OfferResponseFactory(member=member)
    mechanism = EarningMechanismFactory(sku="BREAD", points=40)
    opened = open_checkout(basket([coupon.code], [response_row.pk]))

    answer = commit(opened["id"])

    assert answer.status_code == 200, answer.json()
    body = answer.json()
    redemption = CouponRedemption.objects.get(coupon=coupon)
    assert body["status"] == "committed"
    assert body["redemptions"] == [{"redemption_id": redemption.pk, "code": coupon.code, "discount_amount": "6.00"}]
    assert redemption.line_discounts == {"1": "1.00", "2": "2.00", "3": "3.00"}
    assert (redemption.transaction_id, redemption.bill_amount) == ("T-1", Decimal("60.00"))
    assert body["completed_responses"] == [response_row.pk]
    assert OfferResponse.objects.get(pk=response_row.pk).status == "completed"
    assert body["transaction"]["awards"] == [{"offer_id": mechanism.offer_id, "points": 40}]
    assert body["transaction"]["points_balance"] == 40
    recorded = Transaction.objects.get(transaction_id="T-1")
    assert recorded.total_amount == Decimal("54.00")
    assert [(i["line_ref"], i["discount_amount"], i["points"]) for i in recorded.items] == [
        ("1", "1.00", 0), ("2", "2.00", 40), ("3", "3.00", 0),
    ]  # fmt: skip
    coupon.refresh_from_db()
    assert (coupon.status, coupon.held_by_checkout, coupon.held_until) == ("redeemed", None, None)
    assert not CheckoutHold.objects.filter(checkout_id=opened["id"], released_at__isnull=True).exists()
    assert WebhookEvent.objects.filter(type="coupon.redeemed", object_id=str(coupon.pk)).count() == 1


def test_commit_twice_replays_the_first_answer(open_checkout, commit, basket, member):
    coupon = CouponFactory(member=member)
    opened = open_checkout(basket([coupon.code]))
    first = commit(opened["id"], **{"Idempotency-Key": "k-1"})
    assert commit(opened["id"], **{"Idempotency-Key": "k-1"}).json() == first.json()
    assert commit(opened["id"]).json() == first.json()
    assert CouponRedemption.objects.filter(coupon=coupon).count() == 1


def test_commit_after_expiry_is_hold_expired(open_checkout, commit, basket, member):
    coupon = CouponFactory(member=member)
    opened = open_checkout(basket([coupon.code]))
    lapse(opened["id"])
    answer = commit(opened["id"])
    assert (answer.status_code, answer.json()["code"]) == (409, "hold_expired")
    assert Coupon.objects.get(pk=coupon.pk).status == "issued"


def test_commit_refused_by_a_rule_rolls_everything_back(open_checkout, commit, basket, member):
    coupon = CouponFactory(member=member)
    response_row = OfferResponseFactory(member=member)
    opened = open_checkout(basket([coupon.code], [response_row.pk]))
    Coupon.objects.filter(pk=coupon.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    answer = commit(opened["id"])
    assert (answer.status_code, answer.json()["reasons"]) == (409, ["expired"])
    assert OfferResponse.objects.get(pk=response_row.pk).status == "pending"
    assert not Transaction.objects.exists()
    assert Checkout.objects.get(pk=opened["id"]).status == "held"


def test_cancel_releases_the_holds_and_cancel_of_committed_is_illegal(open_checkout, commit, pos, basket, member):
    coupon = CouponFactory(member=member)
    opened = open_checkout(basket([coupon.code]))
    canceled = pos.post(f"/api/v1/checkouts/{opened['id']}/cancel")
    assert canceled.json() == {"id": opened["id"], "status": "canceled"}
    assert Coupon.objects.get(pk=coupon.pk).held_by_checkout is None
    assert pos.post(f"/api/v1/checkouts/{opened['id']}/cancel").status_code == 200
    assert commit(opened["id"]).json()["code"] == "illegal_transition"

    again = open_checkout(basket([coupon.code]), transaction_id="T-1")  # the id is free again
    commit(again["id"])
    refused = pos.post(f"/api/v1/checkouts/{again['id']}/cancel")
    assert (refused.status_code, refused.json()["code"]) == (409, "illegal_transition")


def test_a_transaction_id_has_one_open_checkout_per_store(open_checkout, pos, basket):
    open_checkout(basket())
    answer = pos.post("/api/v1/checkouts", {**basket(), "transaction_id": "T-1"}, format="json")
    assert (answer.status_code, answer.json()["code"]) == (409, "transaction_id_in_use")


def test_sweep_expires_lapsed_checkouts_and_frees_their_coupons(open_checkout, commit, basket, member):
    coupon = CouponFactory(member=member)
    response_row = OfferResponseFactory(member=member)
    kept = open_checkout(basket(), transaction_id="T-2")
    opened = open_checkout(basket([coupon.code], [response_row.pk]))
    lapse(opened["id"])

    assert checkouts_expire_due(actor=Actor.system("tests")) == 1

    assert Checkout.objects.get(pk=opened["id"]).status == "expired"
    assert Checkout.objects.get(pk=kept["id"]).status == "held"
    assert Coupon.objects.get(pk=coupon.pk).held_by_checkout is None
    assert not CheckoutHold.objects.filter(checkout_id=opened["id"], released_at__isnull=True).exists()
    assert list(CheckoutEvent.objects.filter(checkout_id=opened["id"]).values_list("new_status", flat=True)) == [
        "held", "expired",
    ]  # fmt: skip
    assert checkouts_expire_due(actor=Actor.system("tests")) == 0
    assert commit(opened["id"]).json()["code"] == "hold_expired"


def test_a_lapsed_hold_no_longer_blocks_before_the_sweep(open_checkout, basket, member):
    coupon = CouponFactory(member=member)
    response_row = OfferResponseFactory(member=member)
    first = open_checkout(basket([coupon.code], [response_row.pk]))
    lapse(first["id"])
    second = open_checkout(basket([coupon.code], [response_row.pk]), transaction_id="T-2")
    assert second["coupons"][0]["applies"] and second["offer_responses"][0]["applies"]
    assert Coupon.objects.get(pk=coupon.pk).held_by_checkout == second["id"]


def test_checkouts_of_another_store_or_unknown_ids(open_checkout, pos, basket, make_api_client):
    opened = open_checkout(basket())
    other = make_api_client("pos", stores=[OrgEntityFactory(code="S-OTHER")])
    assert other.get(f"/api/v1/checkouts/{opened['id']}").json()["code"] == "store_not_permitted"
    for pk in (999999, 2**63, 2**64):
        assert pos.get(f"/api/v1/checkouts/{pk}").status_code == 404
        assert pos.post(f"/api/v1/checkouts/{pk}/commit").status_code == 404


def test_open_refuses_bad_input(pos, basket):
    for bad in ({**basket()}, {**basket(), "transaction_id": "x" * 101}, {**basket(), "transaction_id": "a\x00"}):
        answer = pos.post("/api/v1/checkouts", bad, format="json")
        assert answer.status_code == 400


def test_open_for_an_unknown_member_is_400(pos, basket):
    answer = pos.post("/api/v1/checkouts", {**basket(), "member": "NOBODY", "transaction_id": "T"}, format="json")
    assert answer.status_code == 400
    assert not Checkout.objects.exists()
