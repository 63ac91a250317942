from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from coupons.models import Coupon, CouponEvent, CouponRedemption, ExchangeRate
from tests.coupons.factories import CouponFactory, CouponSeriesFactory
from tests.members.factories import MemberFactory, OrgEntityFactory

pytestmark = pytest.mark.django_db


def body(coupon, store, **overrides):
    data = {"code": coupon.code, "member": coupon.member.external_id, "store": store.code, "bill_amount": "50.00"}
    data.update(overrides)
    return data


def test_validate_answers_valid_with_the_coupon(pos, store):
    coupon = CouponFactory()
    response = pos.post("/api/v1/coupons/validate", body(coupon, store), format="json")
    assert response.status_code == 200, response.content
    assert response.json()["valid"] is True
    assert response.json()["reasons"] == []
    assert response.json()["coupon"]["code"] == coupon.code


def test_validate_lists_every_failing_reason(pos, store):
    series = CouponSeriesFactory(min_bill=Decimal("100"), hours=[], redemption_series_limit=0)
    coupon = CouponFactory(series=series, expires_at=timezone.now() - timedelta(days=1))
    response = pos.post("/api/v1/coupons/validate", body(coupon, store), format="json")
    assert response.status_code == 200
    assert response.json()["valid"] is False
    assert response.json()["reasons"] == [
        "expired", "bill_below_minimum", "hour_not_allowed", "series_redemption_limit_reached"
    ]  # fmt: skip


def test_validate_unknown_code_answers_coupon_not_found(pos, store):
    member = MemberFactory()
    response = pos.post(
        "/api/v1/coupons/validate",
        {"code": "NOPE", "member": member.external_id, "store": store.code, "bill_amount": "1"},
        format="json",
    )
    assert response.status_code == 200
    assert response.json() == {"valid": False, "reasons": ["coupon_not_found"], "coupon": None}


def test_validate_bad_input_is_400(pos, store):
    response = pos.post("/api/v1/coupons/validate", {"code": "X", "member": "nobody", "store": store.code,
                                                    "bill_amount": "abc"}, format="json")  # fmt: skip
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"member", "bill_amount"}


def test_validate_other_roles_are_403(marketer, member_care, store):
    coupon = CouponFactory()
    for client in (marketer, member_care):
        assert client.post("/api/v1/coupons/validate", body(coupon, store), format="json").status_code == 403


def test_redeem_records_the_redemption_and_counts_it(pos, store):
    coupon = CouponFactory(series__discount_value=Decimal("7.50"))
    response = pos.post("/api/v1/coupons/redeem", body(coupon, store, transaction_id="T-1"), format="json")
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["code"] == coupon.code
    assert data["member"] == coupon.member.external_id
    assert data["store"] == store.code
    assert Decimal(data["discount_amount"]) == Decimal("7.50")
    coupon.refresh_from_db()
    assert coupon.status == "redeemed"
    assert coupon.series.redemptions.get().transaction_id == "T-1"
    coupon.series.refresh_from_db()
    assert coupon.series.redeemed_count == 1
    assert CouponEvent.objects.filter(coupon=coupon, new_status="redeemed").count() == 1


def test_redeem_twice_is_409_already_redeemed(pos, store):
    coupon = CouponFactory()
    assert pos.post("/api/v1/coupons/redeem", body(coupon, store), format="json").status_code == 201
    response = pos.post("/api/v1/coupons/redeem", body(coupon, store), format="json")
    assert response.status_code == 409
    assert response.json()["reasons"] == ["already_redeemed"]


def test_redeem_failing_rules_is_409_with_reasons_and_writes_nothing(pos, store):
    coupon = CouponFactory(series__max_bill=Decimal("10"))
    response = pos.post("/api/v1/coupons/redeem", body(coupon, store, member=MemberFactory().external_id),
                        format="json")  # fmt: skip
    assert response.status_code == 409
    assert response.json()["reasons"] == ["not_owner", "bill_above_maximum"]
    assert not CouponRedemption.objects.exists()
    coupon.refresh_from_db()
    assert coupon.status == "issued"


def test_redeem_other_store_is_403_store_not_permitted(pos):
    coupon = CouponFactory()
    elsewhere = OrgEntityFactory(code="S-ELSEWHERE")
    response = pos.post("/api/v1/coupons/redeem", body(coupon, elsewhere), format="json")
    assert response.status_code == 403
    assert response.json()["code"] == "store_not_permitted"


def test_redeem_at_a_till_inside_an_allowed_zone(make_api_client):
    zone = OrgEntityFactory(code="Z-1", type="zone")
    shop = OrgEntityFactory(code="S-Z1", type="store", parent=zone)
    till = OrgEntityFactory(code="S-Z1-T1", type="till", parent=shop)
    series = CouponSeriesFactory(redemption_stores_type="zone")
    series.redemption_stores.set([zone])
    coupon = CouponFactory(series=series)
    pos = make_api_client("pos", stores=[shop])
    assert pos.post("/api/v1/coupons/validate", body(coupon, OrgEntityFactory(code="S-OUT")),
                    format="json").status_code == 403  # fmt: skip
    response = pos.post("/api/v1/coupons/redeem", body(coupon, till), format="json")
    assert response.status_code == 201, response.content


def test_redeem_multi_use_counts_per_member(pos, store):
    coupon = CouponFactory(series__multi_use=True, series__redemption_max_per_member=2)
    for _ in range(2):
        assert pos.post("/api/v1/coupons/redeem", body(coupon, store), format="json").status_code == 201
    response = pos.post("/api/v1/coupons/redeem", body(coupon, store), format="json")
    assert response.json()["reasons"] == ["member_redemption_limit_reached"]
    coupon.refresh_from_db()
    assert coupon.status == "issued"


def test_redeem_common_code_picks_the_members_row(pos, store):
    series = CouponSeriesFactory(common=True)
    first = CouponFactory(series=series, code="SAVE10", is_common=True)
    second = CouponFactory(series=series, code="SAVE10", is_common=True)
    assert pos.post("/api/v1/coupons/redeem", body(first, store), format="json").status_code == 201
    assert pos.post("/api/v1/coupons/redeem", body(second, store), format="json").status_code == 201


def test_redeem_idempotency_key_replays_the_first_answer(pos, store):
    coupon = CouponFactory()
    first = pos.post("/api/v1/coupons/redeem", body(coupon, store), format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    again = pos.post("/api/v1/coupons/redeem", body(coupon, store), format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert CouponRedemption.objects.count() == 1


def test_redeem_converts_a_fixed_discount_to_the_store_currency(pos, store):
    store.currency = "EUR"
    store.save()
    coupon = CouponFactory(series__discount_value=Decimal("10"), series__discount_currency="USD")
    missing = pos.post("/api/v1/coupons/redeem", body(coupon, store), format="json")
    assert missing.status_code == 409
    assert missing.json()["code"] == "exchange_rate_missing"
    ExchangeRate.objects.create(from_currency="USD", to_currency="EUR", rate=Decimal("0.9"))
    response = pos.post("/api/v1/coupons/redeem", body(coupon, store), format="json")
    assert response.status_code == 201
    assert Decimal(response.json()["discount_amount"]) == Decimal("9.00")
    assert response.json()["currency"] == "EUR"


def test_reverse_reinstates_the_coupon_and_is_idempotent(pos, store):
    coupon = CouponFactory()
    redemption_id = pos.post("/api/v1/coupons/redeem", body(coupon, store), format="json").json()["redemption_id"]
    for _ in range(2):
        response = pos.post(f"/api/v1/coupon-redemptions/{redemption_id}/reverse")
        assert response.status_code == 200, response.content
        assert response.json()["is_reversed"] is True
    coupon.refresh_from_db()
    coupon.series.refresh_from_db()
    assert coupon.status == "issued"
    assert coupon.is_reversed is True
    assert coupon.series.redeemed_count == 0
    detail = pos.get(f"/api/v1/coupons/{coupon.code}").json()
    assert detail["is_reversed"] is True
    assert detail["last_status_change_on"]
    listed = pos.get(f"/api/v1/members/{coupon.member.external_id}/coupons").json()
    rows = listed["results"] if isinstance(listed, dict) else listed
    assert rows[0]["is_reversed"] is True
    assert pos.post("/api/v1/coupons/redeem", body(coupon, store), format="json").status_code == 201


def test_reverse_unknown_is_404_and_other_store_403(pos, make_api_client):
    assert pos.post("/api/v1/coupon-redemptions/999999/reverse").status_code == 404
    other_store = OrgEntityFactory(code="S-OTHER")
    other = make_api_client("pos", stores=[other_store])
    coupon = CouponFactory()
    rid = other.post("/api/v1/coupons/redeem", body(coupon, other_store), format="json").json()["redemption_id"]
    assert pos.post(f"/api/v1/coupon-redemptions/{rid}/reverse").status_code == 403
    assert Coupon.objects.get(pk=coupon.pk).status == "redeemed"


def test_validate_and_redeem_query_counts_stay_flat(pos, store, django_assert_max_num_queries):
    series = CouponSeriesFactory(redemption_stores_type="store", multi_use=True, redemption_max_per_member=5)
    series.redemption_stores.set([store])
    coupon = CouponFactory(series=series)
    with django_assert_max_num_queries(12):
        assert pos.post("/api/v1/coupons/validate", body(coupon, store), format="json").json()["valid"] is True
    with django_assert_max_num_queries(16):
        assert pos.post("/api/v1/coupons/redeem", body(coupon, store), format="json").status_code == 201


def test_series_list_by_org_entity_has_no_n_plus_one(marketer, django_assert_max_num_queries):
    zone = OrgEntityFactory(code="Z-Q", type="zone")
    for _ in range(6):
        CouponSeriesFactory(redemption_stores_type="zone").redemption_stores.set([zone])
    with django_assert_max_num_queries(12):
        response = marketer.get("/api/v1/coupon-series?org_entity_type=zone&org_entity_ids=Z-Q")
    data = response.json()
    assert len(data["results"] if isinstance(data, dict) else data) == 6


def test_validate_and_redeem_bodies_match_the_schema_serializers(pos, store):
    coupon = CouponFactory()
    validated = pos.post("/api/v1/coupons/validate", body(coupon, store), format="json").json()["coupon"]
    assert validated == pos.get(f"/api/v1/coupons/{coupon.code}").json()
    redeemed = pos.post("/api/v1/coupons/redeem", body(coupon, store), format="json").json()
    from coupons.redemption.serializers import RedemptionOutputSerializer

    assert redeemed == RedemptionOutputSerializer(CouponRedemption.objects.get()).data


def test_redeem_bad_input_is_400_and_anonymous_401(pos, store, anonymous):
    coupon = CouponFactory()
    data = {**body(coupon, store), "bill_amount": "-1", "store": "NO-SUCH-STORE"}
    bad = pos.post("/api/v1/coupons/redeem", data, format="json")
    assert bad.status_code == 400
    assert set(bad.json()["errors"]) == {"bill_amount", "store"}
    assert anonymous.post("/api/v1/coupons/redeem", body(coupon, store), format="json").status_code == 401
    assert not CouponRedemption.objects.exists()


def test_redeem_refusal_under_an_idempotency_key_is_replayed(pos, store):
    coupon = CouponFactory(status="revoked")
    first = pos.post("/api/v1/coupons/redeem", body(coupon, store), format="json", HTTP_IDEMPOTENCY_KEY="k-409")
    again = pos.post("/api/v1/coupons/redeem", body(coupon, store), format="json", HTTP_IDEMPOTENCY_KEY="k-409")
    assert first.status_code == again.status_code == 409
    assert again.json()["reasons"] == ["revoked"]
