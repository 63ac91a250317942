import pytest

from coupons.models import Coupon, CouponEvent, CouponResend
from tests.coupons.factories import CouponFactory, CouponSeriesFactory
from tests.members.factories import MemberFactory

pytestmark = pytest.mark.django_db


def seeded_series():
    series = CouponSeriesFactory(code_mode="upload", code_length=None, code_charset="")
    member = MemberFactory()
    coupons = {
        "issued": CouponFactory(series=series, member=member),
        "issued2": CouponFactory(series=series, member=member),
        "other": CouponFactory(series=series),
        "unissued": CouponFactory(series=series, member=None, status="unissued", issued_at=None),
        "redeemed": CouponFactory(series=series, member=member, status="redeemed"),
    }
    return series, member, coupons


def statuses(coupons):
    return {name: Coupon.objects.get(pk=c.pk).status for name, c in coupons.items()}


def test_revoke_without_confirm_is_400_confirmation_required(marketer):
    series, _, coupons = seeded_series()
    response = marketer.post(f"/api/v1/coupon-series/{series.pk}/revoke", {"mode": "all_unredeemed"}, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "confirmation_required"
    assert "revoked" not in statuses(coupons).values()


def test_revoke_all_unredeemed_never_touches_redeemed(marketer):
    series, _, coupons = seeded_series()
    response = marketer.post(f"/api/v1/coupon-series/{series.pk}/revoke",
                             {"mode": "all_unredeemed", "confirm": True}, format="json")  # fmt: skip
    assert response.status_code == 200, response.content
    assert response.json() == {"revoked": 4}
    assert statuses(coupons) == {"issued": "revoked", "issued2": "revoked", "other": "revoked",
                                 "unissued": "revoked", "redeemed": "redeemed"}  # fmt: skip
    assert CouponEvent.objects.filter(new_status="revoked").count() == 4


def test_revoke_unissued_only(marketer):
    series, _, coupons = seeded_series()
    response = marketer.post(f"/api/v1/coupon-series/{series.pk}/revoke",
                             {"mode": "unissued", "confirm": True}, format="json")  # fmt: skip
    assert response.json() == {"revoked": 1}
    assert statuses(coupons)["unissued"] == "revoked"
    assert statuses(coupons)["issued"] == "issued"


def test_revoke_members_revokes_all_their_active_coupons(marketer):
    series, member, coupons = seeded_series()
    response = marketer.post(f"/api/v1/coupon-series/{series.pk}/revoke",
                             {"mode": "members", "members": [member.external_id], "confirm": True},
                             format="json")  # fmt: skip
    assert response.json() == {"revoked": 2}
    assert statuses(coupons) == {"issued": "revoked", "issued2": "revoked", "other": "issued",
                                 "unissued": "unissued", "redeemed": "redeemed"}  # fmt: skip


def test_revoke_in_small_batches_revokes_everything():
    from config.actors import Actor
    from coupons.lifecycle.revoke import series_revoke

    series = CouponSeriesFactory()
    for _ in range(7):
        CouponFactory(series=series)
    assert series_revoke(series=series, mode="all_unredeemed", actor=Actor.cli(), confirm=True, batch_size=3) == 7
    assert set(Coupon.objects.filter(series=series).values_list("status", flat=True)) == {"revoked"}


def test_revoke_bad_input_and_roles(marketer, member_care, pos):
    series, _, _ = seeded_series()
    url = f"/api/v1/coupon-series/{series.pk}/revoke"
    assert marketer.post(url, {"mode": "nope", "confirm": True}, format="json").status_code == 400
    unknown = marketer.post(url, {"mode": "members", "members": ["NOBODY"], "confirm": True}, format="json")
    assert unknown.status_code == 400
    assert marketer.post(url, {"mode": "members", "confirm": True}, format="json").status_code == 400
    assert marketer.post("/api/v1/coupon-series/999999/revoke", {"mode": "unissued", "confirm": True},
                         format="json").status_code == 404  # fmt: skip
    for client in (member_care, pos):
        assert client.post(url, {"mode": "unissued", "confirm": True}, format="json").status_code == 403


def test_revoked_coupon_fails_validation(marketer, pos, store):
    series, member, coupons = seeded_series()
    marketer.post(f"/api/v1/coupon-series/{series.pk}/revoke", {"mode": "all_unredeemed", "confirm": True},
                  format="json")  # fmt: skip
    attempt = {"code": coupons["issued"].code, "member": member.external_id, "store": store.code, "bill_amount": "5"}
    response = pos.post("/api/v1/coupons/validate", attempt, format="json")
    assert response.json()["reasons"] == ["revoked"]


def test_resend_uses_the_series_template_and_records_it(member_care, marketer):
    coupon = CouponFactory(series__resend_sms_template="Hi {first_name}, your code is {code}")
    response = member_care.post(f"/api/v1/coupons/{coupon.code}/resend")
    assert response.status_code == 200, response.content
    assert response.json()["message"] == f"Hi Ada, your code is {coupon.code}"
    assert CouponResend.objects.get().recipient == coupon.member.mobile
    assert marketer.post(f"/api/v1/coupons/{coupon.code}/resend").status_code == 200  # marketers may resend too
    assert CouponResend.objects.count() == 2
    assert member_care.post("/api/v1/coupons/NOSUCH/resend").status_code == 404
    revoked = CouponFactory(status="revoked")
    assert member_care.post(f"/api/v1/coupons/{revoked.code}/resend").status_code == 409


def test_transfer_moves_the_code_to_another_member(member_care, pos, store):
    coupon = CouponFactory()
    old_owner, new_owner = coupon.member, MemberFactory()
    response = member_care.post(f"/api/v1/coupons/{coupon.code}/transfer", {"member": new_owner.external_id},
                                format="json")  # fmt: skip
    assert response.status_code == 200, response.content
    assert response.json()["member"] == new_owner.external_id
    event = CouponEvent.objects.get(coupon=coupon)
    assert event.reason == f"transferred from {old_owner.external_id} to {new_owner.external_id}"
    bill = {"code": coupon.code, "store": store.code, "bill_amount": "5"}
    assert pos.post("/api/v1/coupons/validate", {**bill, "member": old_owner.external_id},
                    format="json").json()["reasons"] == ["not_owner"]  # fmt: skip
    assert pos.post("/api/v1/coupons/redeem", {**bill, "member": new_owner.external_id},
                    format="json").status_code == 201  # fmt: skip


def test_transfer_refuses_redeemed_and_bad_input(marketer, pos):
    coupon = CouponFactory(status="redeemed")
    other = MemberFactory()
    response = marketer.post(f"/api/v1/coupons/{coupon.code}/transfer", {"member": other.external_id}, format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "coupon_not_transferable"
    assert marketer.post(f"/api/v1/coupons/{coupon.code}/transfer", {"member": "NOBODY"},
                         format="json").status_code == 400  # fmt: skip
    assert marketer.post("/api/v1/coupons/NOSUCH/transfer", {"member": other.external_id},
                         format="json").status_code == 404  # fmt: skip
    assert pos.post(f"/api/v1/coupons/{coupon.code}/transfer", {"member": other.external_id},
                    format="json").status_code == 403  # fmt: skip


@pytest.mark.parametrize(
    "query",
    ["org_entity_type=galaxy&org_entity_ids=Z-A", "org_entity_type=zone", "org_entity_ids=Z-A",
     "org_entity_type=zone&org_entity_type=store&org_entity_ids=Z-A", "org_entity_type=zone&org_entity_ids=,"],
)  # fmt: skip
def test_series_list_malformed_org_filter_is_400(marketer, query):
    assert marketer.get(f"/api/v1/coupon-series?{query}").status_code == 400
