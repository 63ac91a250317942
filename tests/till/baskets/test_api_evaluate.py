from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from coupons.models import Coupon, CouponRedemption, ExchangeRate
from tests.concurrency import wait_for_a_fresh_minute
from tests.coupons.factories import CouponFactory, CouponSeriesFactory
from tests.members.factories import OrgEntityFactory
from tests.offers.factories import EarningMechanismFactory, OfferResponseFactory

pytestmark = pytest.mark.django_db
URL = "/api/v1/baskets/evaluate"


def evaluate(pos, body):
    response = pos.post(URL, body, format="json")
    assert response.status_code == 200, response.json()
    return response.json()


def coupon_for(member, **series):
    return CouponFactory(member=member, series=CouponSeriesFactory(**series))


def test_evaluate_spreads_a_fixed_coupon_over_every_line_pro_rata(pos, basket, member):
    coupon = coupon_for(member, discount_value=Decimal("6.00"))
    body = evaluate(pos, basket([coupon.code]))
    assert [line["discount_amount"] for line in body["lines"]] == ["1.00", "2.00", "3.00"]
    assert body["coupons"] == [
        {"code": coupon.code, "applies": True, "reasons": [], "discount_amount": "6.00", "line_refs": ["1", "2", "3"]}
    ]
    assert (body["total_amount"], body["total_discount"], body["amount_due"]) == ("60.00", "6.00", "54.00")


def test_evaluate_a_percentage_coupon_on_its_skus_only(pos, basket, member):
    coupon = coupon_for(member, discount_type="percentage", discount_value=10, redemption_skus=["BREAD", "WINE"])
    body = evaluate(pos, basket([coupon.code]))
    assert [line["discount_amount"] for line in body["lines"]] == ["0.00", "2.00", "3.00"]
    assert body["coupons"][0]["line_refs"] == ["2", "3"]


def test_evaluate_min_bill_compares_with_the_eligible_lines_amount(pos, basket, member):
    coupon = coupon_for(member, min_bill=Decimal("25"), redemption_skus=["BREAD"])
    body = evaluate(pos, basket([coupon.code]))
    assert body["coupons"][0]["applies"] is False
    assert body["coupons"][0]["reasons"] == ["bill_below_minimum"]
    assert body["total_discount"] == "0.00"


def test_evaluate_gives_every_failing_reason_as_validate_does(pos, basket, member, store):
    coupon = CouponFactory(series__min_bill=Decimal("1000"), expired=True)
    body = evaluate(pos, basket([coupon.code, "NOPE"]))
    validate = pos.post(
        "/api/v1/coupons/validate",
        {"code": coupon.code, "member": member.external_id, "store": store.code, "bill_amount": "60.00"},
        format="json",
    )
    assert body["coupons"][0]["reasons"] == validate.json()["reasons"]
    assert set(body["coupons"][0]["reasons"]) >= {"expired", "not_owner", "bill_below_minimum"}
    assert body["coupons"][1] == {
        "code": "NOPE",
        "applies": False,
        "reasons": ["coupon_not_found"],
        "discount_amount": "0.00",
        "line_refs": [],
    }


def test_evaluate_an_exclusive_coupon_applies_alone(pos, basket, member):
    first = coupon_for(member, discount_value=Decimal("1"))
    exclusive = coupon_for(member, discount_value=Decimal("2"), stacking_exclusive=True)
    body = evaluate(pos, basket([first.code, exclusive.code]))
    assert [(c["applies"], c["reasons"]) for c in body["coupons"]] == [(False, ["not_combinable"]), (True, [])]
    assert body["total_discount"] == "2.00"


def test_evaluate_priority_decides_which_coupon_takes_a_line_first(pos, basket, member):
    lines = [{"line_ref": "1", "sku": "MILK", "quantity": 1, "unit_price": "10.00"}]
    low = coupon_for(member, discount_value=Decimal("8"))
    high = coupon_for(member, discount_value=Decimal("8"), stacking_priority=10)
    body = evaluate(pos, basket([low.code, high.code], lines=lines))
    assert [c["discount_amount"] for c in body["coupons"]] == ["2.00", "8.00"]
    assert body["lines"][0]["discount_amount"] == "10.00"


def test_evaluate_one_coupon_of_a_series_per_basket(pos, basket, member):
    series = CouponSeriesFactory()
    first, second = CouponFactory(series=series, member=member), CouponFactory(series=series, member=member)
    body = evaluate(pos, basket([first.code, second.code]))
    assert [c["reasons"] for c in body["coupons"]] == [[], ["series_once_per_basket"]]


def test_evaluate_a_coupon_whose_skus_are_not_in_the_basket(pos, basket, member):
    coupon = coupon_for(member, redemption_skus=["CHEESE"])
    assert evaluate(pos, basket([coupon.code]))["coupons"][0]["reasons"] == ["no_eligible_lines"]


def test_evaluate_converts_a_fixed_discount_to_the_stores_currency(pos, basket, member):
    ExchangeRate.objects.create(from_currency="EUR", to_currency="USD", rate=Decimal("1.5"))
    coupon = coupon_for(member, discount_value=Decimal("4"), discount_currency="EUR")
    assert evaluate(pos, basket([coupon.code]))["coupons"][0]["discount_amount"] == "6.00"


def test_evaluate_awards_the_earning_offers_and_spreads_points_over_their_lines(pos, basket):
    mechanism = EarningMechanismFactory(sku="BREAD", points=50)
    body = evaluate(pos, basket())
    assert body["awards"] == [{"offer_id": mechanism.offer_id, "points": 50}]
    assert [line["points"] for line in body["lines"]] == [0, 50, 0]
    assert body["total_points"] == 50


def test_evaluate_spend_offers_earn_on_what_is_paid(pos, basket, member):
    EarningMechanismFactory(behavior_type="spend", sku="", min_amount=Decimal("58"), points=10)
    coupon = coupon_for(member, discount_value=Decimal("5"))
    assert evaluate(pos, basket())["awards"] != []
    assert evaluate(pos, basket([coupon.code]))["awards"] == []  # 55.00 paid


def test_evaluate_offer_responses_usable_or_with_their_reasons(pos, basket, member):
    usable = OfferResponseFactory(member=member)
    completed = OfferResponseFactory(member=member, completed=True)
    someone_elses = OfferResponseFactory()
    body = evaluate(pos, basket(offer_response_ids=[usable.pk, completed.pk, someone_elses.pk, 999999]))
    assert body["offer_responses"] == [
        {"id": usable.pk, "applies": True, "reasons": []},
        {"id": completed.pk, "applies": False, "reasons": ["not_usable"]},
        {"id": someone_elses.pk, "applies": False, "reasons": ["not_owner"]},
        {"id": 999999, "applies": False, "reasons": ["offer_response_not_found"]},
    ]


def test_evaluate_has_no_side_effects_and_repeats_itself(pos, basket, member):
    coupon = coupon_for(member)
    at = timezone.now().isoformat()
    first = evaluate(pos, basket([coupon.code], at=at))
    assert evaluate(pos, basket([coupon.code], at=at)) == first
    assert Coupon.objects.get(pk=coupon.pk).status == "issued"
    assert not CouponRedemption.objects.exists()


def test_evaluate_statements_do_not_grow_with_offers_or_lines(pos, basket, member):
    coupon = coupon_for(member)
    EarningMechanismFactory(sku="L0", points=5)

    def statements(lines, offers):
        for index in range(offers):
            EarningMechanismFactory(sku=f"X{index}", points=5)
        body = basket(
            [coupon.code],
            lines=[{"line_ref": str(i), "sku": f"L{i}", "quantity": 1, "unit_price": "2"} for i in range(lines)],
        )
        evaluate(pos, body)  # loads the offers' index
        with CaptureQueriesContext(connection) as queries:
            evaluate(pos, body)
        return len(queries)

    assert statements(lines=1, offers=0) == statements(lines=30, offers=40)


def test_evaluate_refuses_bad_input_with_400(pos, basket):
    too_many = [{"line_ref": str(i), "sku": "A", "quantity": 1, "unit_price": "1"} for i in range(501)]
    for bad in (
        basket(lines=[{"line_ref": "1", "sku": "A", "quantity": 1, "unit_price": "1"}] * 2),
        basket(lines=too_many),
        basket(lines=[{"line_ref": "1", "sku": "A", "quantity": 2**63, "unit_price": "1"}]),
        basket(lines=[{"line_ref": "1\x00", "sku": "A", "quantity": 1, "unit_price": "1"}]),
        basket(offer_response_ids=[2**63]),
        basket(coupon_codes=["X" * 65]),
        basket(lines=[]),
        basket(
            lines=[
                {"line_ref": str(i), "sku": "A", "quantity": 100_000, "unit_price": "9999999999.99"} for i in range(2)
            ]
        ),
    ):
        response = pos.post(URL, bad, format="json")
        assert response.status_code == 400, response.json()
        assert response["Content-Type"] == "application/problem+json"


def test_evaluate_at_another_store_is_refused(pos, basket):
    other = OrgEntityFactory(code="S-OTHER")
    response = pos.post(URL, basket(store=other.code), format="json")
    assert (response.status_code, response.json()["code"]) == (403, "store_not_permitted")


def test_evaluate_is_for_the_till_only(member_care, basket):
    assert member_care.post(URL, basket(), format="json").status_code == 403


def test_evaluate_a_time_outside_the_window_is_a_reason(pos, basket, member):
    coupon = coupon_for(member)
    body = evaluate(pos, basket([coupon.code], at=(timezone.now() - timedelta(days=30)).isoformat()))
    assert "time_out_of_range" in body["coupons"][0]["reasons"]


@override_settings(COUPON_UNKNOWN_CODES_PER_MINUTE=3, COUPON_UNKNOWN_CODES_PER_STORE_PER_MINUTE=100)
def test_evaluate_counts_unknown_codes_against_the_guessing_guard(pos, basket):
    wait_for_a_fresh_minute()
    first = pos.post(URL, basket(["NOPE-1", "NOPE-2"]), format="json")
    assert first.status_code == 200
    assert pos.post(URL, basket(["NOPE-3"]), format="json").status_code == 200  # the third reaches the limit
    blocked = pos.post(URL, basket(), format="json")
    assert (blocked.status_code, blocked.json()["code"]) == (429, "too_many_unknown_codes")
