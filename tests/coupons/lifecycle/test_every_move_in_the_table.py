"""Every path that changes a coupon's status moves it only as the transition table allows.

One coupon history per path (issue, upload claim, till redemption by swap and under the lock, reversal,
transfer, revoke, re-issue by a codes upload, expiry sweep), then every event is checked against the
table, and every coupon's events against each other and its final status.
"""

from datetime import timedelta
from decimal import Decimal
from itertools import pairwise

import pytest
from django.utils import timezone

from config.actors import Actor
from coupons.issuance.services import coupon_issue
from coupons.lifecycle.expiry_sweep import coupons_expire_due
from coupons.lifecycle.revoke import series_revoke
from coupons.lifecycle.transfer import coupon_transfer
from coupons.lifecycle.transitions import INITIAL_STATUSES, REISSUE_TRANSITIONS, TRANSITIONS
from coupons.models import Coupon, CouponEvent
from coupons.redemption.services import coupon_for_redemption, coupon_redeem, coupon_redeem_read, redemption_reverse
from tests.coupons.factories import CouponFactory, CouponSeriesFactory
from tests.members.factories import MemberFactory

pytestmark = pytest.mark.django_db
ACTOR = Actor.system()


def _redeem(coupon, store, *, read_first: bool):
    # read_first: the till's context read found the coupon (on PostgreSQL the compare-and-swap write)
    common = {
        "code": coupon.code,
        "member": coupon.member,
        "store": store,
        "bill_amount": Decimal("50"),
        "actor": ACTOR,
    }
    if read_first:
        return coupon_redeem_read(coupon=coupon_for_redemption(code=coupon.code, member=coupon.member), **common)
    return coupon_redeem(**common)


def _every_path(store) -> None:
    generated, common = CouponSeriesFactory(), CouponSeriesFactory(common=True)
    uploaded = CouponSeriesFactory(uploaded=True, code_count=2)  # the two codes below
    ann, bob, cy = MemberFactory(), MemberFactory(), MemberFactory()

    redeemed = coupon_issue(series=generated, member=ann, actor=ACTOR).coupon  # born issued
    transferred = coupon_issue(series=generated, member=bob, actor=ACTOR).coupon
    coupon_issue(series=common, member=ann, actor=ACTOR)
    CouponFactory(series=uploaded, code="UPLOADED1", status="unissued", member=None)
    CouponFactory(series=uploaded, code="UPLOADED2", status="unissued", member=None)
    claimed = coupon_issue(series=uploaded, member=ann, actor=ACTOR).coupon  # unissued → issued

    reversed_redemption = _redeem(redeemed, store, read_first=True)  # issued → redeemed
    redemption_reverse(redemption=reversed_redemption, actor=ACTOR)  # redeemed → issued
    _redeem(Coupon.objects.get(pk=redeemed.pk), store, read_first=False)  # under the row lock
    coupon_transfer(coupon=transferred, to_member=cy, actor=ACTOR)  # issued, holder changes

    series_revoke(series=uploaded, mode="all_unredeemed", actor=ACTOR, confirm=True)  # issued/unissued → revoked
    coupon_issue(series=uploaded, member=bob, actor=ACTOR, code=claimed.code)  # revoked → issued, to another member

    coupons_expire_due(actor=ACTOR, now=timezone.now() + timedelta(days=400))  # issued → expired


def test_every_path_moves_coupons_only_as_the_table_allows(store):
    _every_path(store)

    seen = set()
    for old, new, reason in CouponEvent.objects.values_list("old_status", "new_status", "reason"):
        seen.add((old, new))
        if old == "":
            assert new in INITIAL_STATUSES, reason  # a coupon created in its first status
        elif old == new:
            assert (old, reason[:11]) == ("issued", "transferred")  # the holder changed, not the status
        elif new not in TRANSITIONS[old]:
            assert new in REISSUE_TRANSITIONS.get(old, ()), (old, new)
            assert reason.startswith("re-issued by a codes upload")
    assert seen == {
        ("", "issued"),
        ("unissued", "issued"),
        ("issued", "redeemed"),
        ("redeemed", "issued"),
        ("issued", "issued"),
        ("unissued", "revoked"),
        ("issued", "revoked"),
        ("revoked", "issued"),
        ("issued", "expired"),
    }


def test_every_coupons_events_follow_on_from_each_other_to_its_status(store):
    _every_path(store)

    for coupon in Coupon.objects.all():
        history = list(coupon.events.order_by("id").values_list("old_status", "new_status"))
        if not history:
            assert coupon.status in INITIAL_STATUSES  # created, never moved
            continue
        assert history[0][0] in {"", *INITIAL_STATUSES}
        for (_, before), (after, _) in pairwise(history):
            assert before == after, history
        assert history[-1][1] == coupon.status
