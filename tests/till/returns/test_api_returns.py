from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import override_settings
from django.utils import timezone

from config.actors import Actor
from coupons.models import Coupon, CouponRedemption
from members.models import PointsEntry
from members.services import points_post
from tests.coupons.factories import CouponFactory, CouponSeriesFactory
from till.returns.models import Return, ReturnLine
from webhooks.models import Event

pytestmark = pytest.mark.django_db


def give_back(client, lines, *, return_id="R-1", transaction_id="T-1", store="S-MAIN", **extra):
    body = {"return_id": return_id, "store": store, "lines": [{"line_ref": r, "quantity": q} for r, q in lines]}
    return client.post(f"/api/v1/transactions/{transaction_id}/returns", body, format="json", **extra)


def test_return_per_unit_award_reverses_per_returned_unit(pos, buy, offers_for_basket):
    member = buy()
    assert member.points_balance == 90  # 4 milk at 10, and 50 for the spend

    response = give_back(pos, [("1", 1)])

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body == {"return_id": "R-1", "points_reversed": 10, "points_shortfall": 0, "points_balance": 80,
                    "coupons": []}  # fmt: skip
    entry = PointsEntry.objects.filter(member=member, kind="return").get()
    assert (entry.points, entry.reference, entry.reason) == (-10, "T-1", "Return R-1")
    assert list(ReturnLine.objects.values_list("line_ref", "sku", "quantity")) == [("1", "MILK", 1)]


def test_return_threshold_award_reverses_when_the_kept_basket_falls_below_it(pos, buy, offers_for_basket):
    buy()
    # Two bread back: 10.00 kept, under the 12.00 the spend award needs; milk is all kept.
    body = give_back(pos, [("2", 2)]).json()
    assert body["points_reversed"] == 50
    assert body["points_balance"] == 40


def test_return_in_three_steps_adds_up_to_one_full_return(pos, buy, offers_for_basket, store):
    stepwise = buy(transaction_id="T-1")
    whole = buy(transaction_id="T-2")

    steps = [[("1", 1)], [("2", 1), ("1", 2)], [("1", 1), ("2", 1)]]
    reversed_in_steps = [
        give_back(pos, lines, return_id=f"R-{n}").json()["points_reversed"] for n, lines in enumerate(steps)
    ]
    full = give_back(pos, [("1", 4), ("2", 2)], return_id="R-FULL", transaction_id="T-2").json()

    assert reversed_in_steps == [10, 20 + 50, 10]
    assert sum(reversed_in_steps) == full["points_reversed"] == 90
    stepwise.refresh_from_db()
    whole.refresh_from_db()
    assert stepwise.points_balance == whole.points_balance == 0


def test_return_more_than_bought_across_returns_is_409(pos, buy, offers_for_basket):
    buy()
    assert give_back(pos, [("2", 1)], return_id="R-1").status_code == 201
    response = give_back(pos, [("2", 2)], return_id="R-2")
    assert response.status_code == 409
    assert response.json()["code"] == "return_exceeds_purchase"
    assert response["Content-Type"] == "application/problem+json"
    assert Return.objects.count() == 1
    assert give_back(pos, [("9", 1)], return_id="R-3").json()["code"] == "return_exceeds_purchase"


def test_return_same_id_replays_and_changes_nothing(pos, buy, offers_for_basket):
    member = buy()
    first = give_back(pos, [("1", 1)])
    again = give_back(pos, [("1", 1)])
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    member.refresh_from_db()
    assert member.points_balance == 80
    assert Event.objects.filter(type="return.recorded").count() == 1

    other = give_back(pos, [("1", 2)])
    assert other.status_code == 409
    assert other.json()["code"] == "return_id_reused"


def test_return_idempotency_key_replays_the_first_answer(pos, buy, offers_for_basket):
    buy()
    first = give_back(pos, [("1", 1)], HTTP_IDEMPOTENCY_KEY="k-1")
    again = give_back(pos, [("1", 1)], HTTP_IDEMPOTENCY_KEY="k-1")
    assert again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert Return.objects.count() == 1


@override_settings(RETURN_WINDOW_DAYS=1)
def test_return_after_the_window_is_409_return_window_closed(pos, buy, offers_for_basket):
    buy(occurred_at=timezone.now() - timedelta(days=1, minutes=1))
    response = give_back(pos, [("1", 1)])
    assert response.status_code == 409
    assert response.json()["code"] == "return_window_closed"
    assert response.json()["reasons"] == ["return_window_closed"]


def test_return_takes_the_balance_to_zero_and_records_the_shortfall(pos, buy, offers_for_basket):
    member = buy()
    points_post(member=member, points=-85, kind=PointsEntry.Kind.SPEND, actor=Actor.system())  # 5 left

    body = give_back(pos, [("1", 4), ("2", 2)]).json()

    assert (body["points_reversed"], body["points_shortfall"], body["points_balance"]) == (5, 85, 0)
    entry = PointsEntry.objects.filter(member=member, kind="return").get()
    assert (entry.points, entry.shortfall, entry.balance_after) == (-5, 85, 0)
    assert "85 points not taken back" in entry.reason
    assert Return.objects.get().points_shortfall == 85


def test_return_with_an_empty_balance_still_records_the_shortfall(pos, buy, offers_for_basket):
    member = buy()
    points_post(member=member, points=-90, kind=PointsEntry.Kind.SPEND, actor=Actor.system())
    body = give_back(pos, [("1", 1)]).json()
    assert (body["points_reversed"], body["points_shortfall"], body["points_balance"]) == (0, 10, 0)
    entry = PointsEntry.objects.filter(member=member, kind="return").get()
    assert (entry.points, entry.shortfall) == (0, 10)


def test_return_of_every_discounted_line_reinstates_a_reinstate_coupon(pos, buy, redeemed_coupon):
    member = buy()
    coupon = redeemed_coupon(member, on_return="reinstate", skus=["BREAD"])
    assert coupon.status == Coupon.Status.REDEEMED

    partial = give_back(pos, [("2", 1)], return_id="R-1").json()
    full = give_back(pos, [("2", 1)], return_id="R-2").json()

    assert partial["coupons"] == [{"code": coupon.code, "outcome": "kept"}]
    assert full["coupons"] == [{"code": coupon.code, "outcome": "reinstated"}]
    coupon.refresh_from_db()
    assert coupon.status == Coupon.Status.ISSUED
    assert CouponRedemption.objects.get(coupon=coupon).is_reversed is True
    assert Event.objects.filter(type="coupon.reversed").count() == 1


def test_return_of_every_discounted_line_forfeits_by_default(pos, buy, redeemed_coupon):
    member = buy()
    coupon = redeemed_coupon(member, skus=["BREAD"])
    body = give_back(pos, [("2", 2)]).json()
    assert body["coupons"] == [{"code": coupon.code, "outcome": "forfeited"}]
    coupon.refresh_from_db()
    assert coupon.status == Coupon.Status.REDEEMED
    assert CouponRedemption.objects.get(coupon=coupon).is_reversed is False


def test_return_below_min_bill_settles_the_coupon(pos, buy, redeemed_coupon):
    member = buy()
    # Its eligible lines are the whole basket (16.00); 9.00 kept is under its 10.00 minimum.
    coupon = redeemed_coupon(member, on_return="reinstate", min_bill=Decimal("10"))
    assert give_back(pos, [("1", 2)], return_id="R-1").json()["coupons"] == [{"code": coupon.code, "outcome": "kept"}]
    body = give_back(pos, [("1", 1)], return_id="R-2").json()
    assert body["coupons"] == [{"code": coupon.code, "outcome": "reinstated"}]


def test_return_reads_line_discounts_when_the_redemption_kept_them(pos, buy, store):
    member = buy()
    # A checkout's redemption names the lines it discounted: here the milk only.
    coupon = CouponFactory(series=CouponSeriesFactory(on_return="reinstate"), member=member, redeemed=True)
    CouponRedemption.objects.create(
        coupon=coupon, series=coupon.series, member=member, store=store, bill_amount=Decimal("16.00"),
        discount_amount=Decimal("1.00"), currency="USD", transaction_id="T-1", line_discounts={"1": "1.00"},
        actor="till-1", channel="api:pos",
    )  # fmt: skip
    assert give_back(pos, [("2", 2)], return_id="R-1").json()["coupons"][0]["outcome"] == "kept"
    assert give_back(pos, [("1", 4)], return_id="R-2").json()["coupons"][0]["outcome"] == "reinstated"


def test_return_of_a_purchase_without_lines_returns_it_as_one_line(pos, buy, offers_for_basket):
    member = buy(items=[], total=Decimal("20.00"))
    assert member.points_balance == 50  # the spend award only
    assert give_back(pos, [("1", 2)]).json()["code"] == "return_exceeds_purchase"
    body = give_back(pos, [("1", 1)], return_id="R-2").json()
    assert (body["points_reversed"], body["points_balance"]) == (50, 0)


def test_return_writes_return_recorded_in_its_transaction(pos, buy, offers_for_basket):
    member = buy()
    give_back(pos, [("1", 1)])
    give_back(pos, [("1", 9)], return_id="R-2")  # refused: no event

    event = Event.objects.get(type="return.recorded")
    assert event.object_type == "transaction"
    assert event.data["return_id"] == "R-1"
    assert event.data["transaction_id"] == "T-1"
    assert event.data["member_external_id"] == member.external_id
    assert event.data["lines"] == [{"line_ref": "1", "quantity": 1}]
    assert event.data["points_reversed"] == 10


def test_return_unknown_purchase_is_404(pos, store):
    response = give_back(pos, [("1", 1)], transaction_id="NOPE")
    assert response.status_code == 404
    assert response.json()["code"] == "purchase_not_found"


def test_return_other_store_is_403(pos, buy):
    from tests.members.factories import OrgEntityFactory

    OrgEntityFactory(type="store", code="S-OTHER")
    buy()
    response = give_back(pos, [("1", 1)], store="S-OTHER")
    assert response.status_code == 403
    assert response.json()["code"] == "store_not_permitted"


@pytest.mark.parametrize(
    "lines, field",
    [([], "lines"), ([("1", 0)], "lines"), ([("1", 2**31)], "lines"), ([("1", 2**63)], "lines"),
     ([("\x00", 1)], "lines")],
)  # fmt: skip
def test_return_bad_input_is_400(pos, buy, lines, field):
    buy()
    response = give_back(pos, lines)
    assert response.status_code == 400
    assert any(key.split(".")[0] == field for key in response.json()["errors"])


def test_return_odd_transaction_ids_are_404_not_500(pos, store):
    assert give_back(pos, [("1", 1)], transaction_id="%00").status_code == 400
    assert give_back(pos, [("1", 1)], transaction_id="T" * 5000).status_code in (404, 414)


def test_return_is_for_pos_clients_only(member_care, marketer, buy):
    buy()
    for client in (member_care, marketer):
        assert give_back(client, [("1", 1)]).status_code == 403
