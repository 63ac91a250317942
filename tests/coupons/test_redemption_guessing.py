import pytest
from django.test import override_settings

from coupons.models import UnknownCodeBurst, UnknownCodeWindow
from tests.coupons.factories import CouponFactory
from tests.members.factories import MemberFactory

pytestmark = pytest.mark.django_db


def try_code(pos, store, code, member, path="validate"):
    return pos.post(f"/api/v1/coupons/{path}",
                    {"code": code, "member": member.external_id, "store": store.code, "bill_amount": "10"},
                    format="json")  # fmt: skip


@override_settings(COUPON_UNKNOWN_CODES_PER_MINUTE=3)
def test_unknown_codes_past_the_limit_get_429_with_retry_after(pos, store):
    member = MemberFactory()
    assert try_code(pos, store, "GUESS1", member).status_code == 200
    assert try_code(pos, store, "GUESS2", member, path="redeem").status_code == 409
    assert try_code(pos, store, "GUESS3", member).status_code == 200
    blocked = try_code(pos, store, "GUESS4", member)
    assert blocked.status_code == 429
    assert blocked.json()["code"] == "too_many_unknown_codes"
    assert 1 <= int(blocked["Retry-After"]) <= 60
    assert try_code(pos, store, "GUESS5", member, path="redeem").status_code == 429
    burst = UnknownCodeBurst.objects.get()
    assert burst.client == pos.api_client
    assert burst.limit == 3
    assert UnknownCodeWindow.objects.get().attempts == 3


@override_settings(COUPON_UNKNOWN_CODES_PER_MINUTE=2)
def test_known_codes_failing_rules_never_count(pos, store):
    coupon = CouponFactory(status="revoked")
    for _ in range(5):
        response = try_code(pos, store, coupon.code, coupon.member)
        assert response.json()["reasons"] == ["revoked"]
    assert not UnknownCodeWindow.objects.exists()
    assert not UnknownCodeBurst.objects.exists()


@override_settings(COUPON_UNKNOWN_CODES_PER_MINUTE=2)
def test_unknown_codes_are_counted_per_client(pos, store, make_api_client):
    member = MemberFactory()
    for code in ("A1", "A2"):
        try_code(pos, store, code, member)
    assert try_code(pos, store, "A3", member).status_code == 429
    other = make_api_client("pos", stores=[store])
    assert try_code(other, store, "B1", member).status_code == 200
