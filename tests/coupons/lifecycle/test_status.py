import pytest

from config.actors import Actor
from coupons.exceptions import CouponTransitionError
from coupons.lifecycle.status import coupon_transition
from coupons.lifecycle.transitions import TRANSITIONS
from coupons.models import Coupon, CouponEvent
from tests.coupons.factories import CouponFactory

pytestmark = pytest.mark.django_db
ACTOR = Actor.system()


def test_transition_moves_and_records_an_event():
    coupon = CouponFactory()
    moved = coupon_transition(coupon=coupon, to=Coupon.Status.REDEEMED, actor=ACTOR, reason="till 4")
    assert moved.status == "redeemed"
    event = CouponEvent.objects.get(coupon=coupon)
    assert (event.old_status, event.new_status, event.reason) == ("issued", "redeemed", "till 4")


@pytest.mark.parametrize(("old", "new"), [("expired", "issued"), ("revoked", "issued"), ("redeemed", "revoked")])
def test_transition_refuses_moves_outside_the_table(old, new):
    coupon = CouponFactory(status=old)
    with pytest.raises(CouponTransitionError):
        coupon_transition(coupon=coupon, to=new, actor=ACTOR)
    assert not CouponEvent.objects.exists()


def test_transition_with_a_stale_status_is_refused():
    coupon = CouponFactory()
    Coupon.objects.filter(pk=coupon.pk).update(status="revoked")
    with pytest.raises(CouponTransitionError) as caught:
        coupon_transition(coupon=coupon, to="redeemed", actor=ACTOR)
    assert caught.value.reasons == ["revoked"]


def test_transition_table_has_final_states():
    assert TRANSITIONS["expired"] == set() and TRANSITIONS["revoked"] == set()
