import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from config.actors import Actor
from coupons.models import Coupon, CouponRedemption
from coupons.redemption.services import coupon_redeem
from tests.coupons.factories import CouponFactory, CouponSeriesFactory
from tests.members.factories import MemberFactory, OrgEntityFactory
from till.offline.api import OfflineRedemptionsApi
from till.offline.models import OfflineBatch, OfflineConflict

pytestmark = pytest.mark.django_db


def row(coupon, *, member=None, at=None, bill="20.00", transaction_id="T-OFF"):
    return {
        "code": coupon.code,
        "member": (member or coupon.member).external_id,
        "redeemed_at": (at or timezone.now() - timedelta(hours=2)).isoformat(),
        "bill_amount": bill,
        "transaction_id": transaction_id,
    }


def send(client, rows, *, batch_id="B-1", store="S-MAIN", **extra):
    body = {"batch_id": batch_id, "store": store, "redemptions": rows}
    return client.post("/api/v1/offline-redemptions", body, format="json", **extra)


def test_offline_rows_are_judged_each_on_its_own_at_their_time(pos, store):
    good = CouponFactory()
    expired = CouponFactory(expired=True)
    stranger = MemberFactory()
    at = timezone.now() - timedelta(hours=3)
    rows = [
        row(good, at=at),
        row(expired),
        row(CouponFactory(), member=stranger),
        {**row(CouponFactory()), "member": "NOBODY"},
        row(CouponFactory(), at=timezone.now() - timedelta(days=4)),  # before the offline window
    ]

    response = send(pos, rows)

    assert response.status_code == 200, response.json()
    body = response.json()
    redemption = CouponRedemption.objects.get(coupon=good)
    assert body["batch_id"] == "B-1"
    assert body["accepted"] == [{"index": 0, "redemption_id": redemption.pk}]
    assert [(r["index"], r["reasons"]) for r in body["rejected"]] == [
        (1, ["expired"]),
        (2, ["not_owner"]),
        (3, ["member_not_found"]),
        (4, ["time_out_of_range"]),
    ]
    assert redemption.redeemed_at == at
    assert redemption.store == store
    assert redemption.transaction_id == "T-OFF"
    good.refresh_from_db()
    assert good.status == Coupon.Status.REDEEMED
    batch = OfflineBatch.objects.get()
    assert (batch.total_rows, batch.accepted_count, batch.rejected_count) == (5, 1, 4)


def test_offline_hours_rule_is_judged_at_redeemed_at_not_now(pos, store):
    at = timezone.now() - timedelta(hours=5)
    series = CouponSeriesFactory(hours=[at.hour])
    body = send(pos, [row(CouponFactory(series=series), at=at)]).json()
    assert len(body["accepted"]) == 1


def test_offline_code_redeemed_meanwhile_elsewhere_is_a_conflict(pos, store):
    other = OrgEntityFactory(type="store", code="S-ONLINE")
    coupon = CouponFactory()
    online = coupon_redeem(code=coupon.code, member=coupon.member, store=other, bill_amount=Decimal("9"),
                           actor=Actor.system())  # fmt: skip
    offline_at = timezone.now() - timedelta(hours=6)

    body = send(pos, [row(coupon, at=offline_at)]).json()

    assert body["accepted"] == []
    assert body["rejected"] == [{"index": 0, "code": coupon.code, "reasons": ["already_redeemed"]}]
    conflict = OfflineConflict.objects.get()
    assert (conflict.code, conflict.member, conflict.offline_store, conflict.offline_redeemed_at) == (
        coupon.code, coupon.member, store, offline_at)  # fmt: skip
    assert (conflict.online_store, conflict.online_redeemed_at, conflict.online_redemption) == (
        other, online.redeemed_at, online)  # fmt: skip


def test_offline_same_batch_again_replays_and_changes_nothing(pos, store):
    rows = [row(CouponFactory()), row(CouponFactory(expired=True))]
    first = send(pos, rows)
    again = send(pos, rows)
    assert again.status_code == 200
    assert again.json() == first.json()
    assert CouponRedemption.objects.count() == 1
    assert OfflineBatch.objects.count() == 1

    other = send(pos, rows[:1])
    assert other.status_code == 409
    assert other.json()["code"] == "batch_id_reused"


def test_offline_batch_ids_are_per_store(make_api_client, store):
    from config.api.roles import Role

    second = OrgEntityFactory(type="store", code="S-TWO")
    http = make_api_client(Role.POS, stores=[store, second])
    assert send(http, [row(CouponFactory())]).status_code == 200
    assert send(http, [row(CouponFactory())], store="S-TWO").status_code == 200
    assert OfflineBatch.objects.count() == 2


def test_offline_other_store_is_403(pos, store):
    OrgEntityFactory(type="store", code="S-OTHER")
    response = send(pos, [row(CouponFactory())], store="S-OTHER")
    assert response.status_code == 403
    assert response.json()["code"] == "store_not_permitted"


@pytest.mark.parametrize(
    "change",
    [
        lambda r: {"redemptions": []},
        lambda r: {"redemptions": [{**r, "redeemed_at": "2026-01-01T10:00:00"}]},  # no offset
        lambda r: {"redemptions": [{**r, "bill_amount": str(2**63)}]},
        lambda r: {"redemptions": [{**r, "code": "A\x00B"}]},
        lambda r: {"redemptions": [{**r, "code": "X" * 5000}]},
        lambda r: {"batch_id": ""},
        lambda r: {"redemptions": "nope"},
    ],
)
def test_offline_bad_input_is_400(pos, store, change):
    base = {"batch_id": "B-1", "store": "S-MAIN", "redemptions": [row(CouponFactory())]}
    response = pos.post("/api/v1/offline-redemptions", {**base, **change(base["redemptions"][0])}, format="json")
    assert response.status_code == 400
    assert OfflineBatch.objects.count() == 0


def test_offline_is_for_pos_clients_only(member_care, marketer, store):
    for client in (member_care, marketer):
        assert send(client, [row(CouponFactory())]).status_code == 403


def big_body(rows, *, transaction_id="T" * 100):
    at = (timezone.now() - timedelta(hours=1)).isoformat()
    redemptions = [{"code": f"NOPE{n:06d}", "member": "NOBODY", "redeemed_at": at, "bill_amount": "20.00",
                    "transaction_id": transaction_id} for n in range(rows)]  # fmt: skip
    return json.dumps({"batch_id": "B-BIG", "store": "S-MAIN", "redemptions": redemptions})


def test_offline_batch_larger_than_the_api_body_limit_is_taken(pos, store, settings):
    body = big_body(15_000)
    assert len(body) > settings.DATA_UPLOAD_MAX_MEMORY_SIZE

    response = pos.post("/api/v1/offline-redemptions", body, content_type="application/json")

    assert response.status_code == 200, response.content[:300]
    answer = response.json()
    assert len(answer["rejected"]) == 15_000
    assert answer["rejected"][-1] == {"index": 14_999, "code": "NOPE014999", "reasons": ["member_not_found"]}
    assert OfflineBatch.objects.get().rejected_count == 15_000


def test_offline_batch_past_the_endpoint_limit_is_413(pos, store, settings, monkeypatch):
    monkeypatch.setattr(OfflineRedemptionsApi, "max_body_bytes", settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1000)
    response = pos.post("/api/v1/offline-redemptions", big_body(15_000), content_type="application/json")
    assert response.status_code == 413
    assert response.json()["code"] == "request_too_large"
    assert str(settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1000) in response.json()["detail"]
    assert not OfflineBatch.objects.exists()


def test_other_endpoints_keep_the_api_body_limit(pos, store, settings):
    response = pos.post("/api/v1/coupons/redeem", big_body(15_000), content_type="application/json")
    assert response.status_code == 413


def test_offline_bad_rows_among_plain_ones_are_named_by_index(pos, store):
    good = row(CouponFactory())
    rows = [good, {**good, "bill_amount": "-1"}, good, {**good, "redeemed_at": "2026-01-01T10:00:00"}, {**good, "x": 1}]
    response = send(pos, rows)
    assert response.status_code == 400
    errors = response.json()["errors"]["redemptions"]
    assert sorted(errors) == ["1", "3"]
    assert "bill_amount" in errors["1"] and "redeemed_at" in errors["3"]
    assert OfflineBatch.objects.count() == 0


@pytest.mark.parametrize("bill", ["20", 20, "20.5", " 20.00 ", 20.0])
def test_offline_amounts_read_as_the_serializer_reads_them(pos, store, bill):
    coupon = CouponFactory()
    body = send(pos, [{**row(coupon), "bill_amount": bill, "code": f" {coupon.code} "}]).json()
    assert len(body["accepted"]) == 1, body
    assert CouponRedemption.objects.get().bill_amount == Decimal(str(bill).strip())
