"""A basket's coupon codes and offer response ids read plainly give exactly what the input serializer's fields
give, or leave the decision (and its messages) to those fields."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rest_framework import exceptions
from rest_framework.fields import empty

from tests.plain_input_strategies import texts
from till.baskets.serializers import BasketEvaluateInputSerializer, plain_coupon_codes, plain_offer_response_ids

FIELDS = BasketEvaluateInputSerializer().fields
ids = st.one_of(st.integers(-2, 2**63 + 2), st.booleans(), st.just("7"), st.just(7.0), st.none())


def field_value(name, value):
    try:
        return FIELDS[name].run_validation(value)
    except exceptions.ValidationError:
        return None


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.just(empty), st.lists(texts, max_size=22), st.text(max_size=3), st.none()))
def test_plain_coupon_codes_agree_with_the_field_whenever_they_decide(value):
    plain = plain_coupon_codes(value)
    if plain is not None:
        assert plain == field_value("coupon_codes", value)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.just(empty), st.lists(ids, max_size=22), st.integers(), st.none()))
def test_plain_offer_response_ids_agree_with_the_field_whenever_they_decide(value):
    plain = plain_offer_response_ids(value)
    if plain is not None:
        assert plain == field_value("offer_response_ids", value)


def test_a_tills_ordinary_codes_and_ids_take_the_plain_path():
    assert plain_coupon_codes(["BSK-1", "WELCOME10"]) == ["BSK-1", "WELCOME10"]
    assert plain_coupon_codes(empty) == [] == plain_offer_response_ids(empty)
    assert plain_offer_response_ids([1, 2**63 - 1]) == [1, 2**63 - 1]


@pytest.mark.parametrize(
    "reader, value",
    [
        (plain_coupon_codes, [" BSK-1"]),  # the field trims
        (plain_coupon_codes, [""]),
        (plain_coupon_codes, ["X" * 65]),
        (plain_coupon_codes, ["A"] * 21),
        (plain_coupon_codes, None),
        (plain_offer_response_ids, [True]),
        (plain_offer_response_ids, ["7"]),
        (plain_offer_response_ids, [0]),
        (plain_offer_response_ids, [2**63]),
        (plain_offer_response_ids, [1] * 21),
    ],
)
def test_codes_and_ids_the_field_must_judge_are_left_to_it(reader, value):
    assert reader(value) is None


@pytest.mark.django_db
def test_bad_codes_and_ids_answer_the_fields_own_messages(pos, store):
    body = {"member": "NOBODY", "store": store.code, "coupon_codes": ["A"] * 21, "offer_response_ids": ["x"],
            "lines": [{"line_ref": "1", "sku": "A", "quantity": 1, "unit_price": "1"}]}  # fmt: skip
    response = pos.post("/api/v1/baskets/evaluate", body, format="json")
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert list(errors) == ["member", "coupon_codes", "offer_response_ids"]
    assert errors["coupon_codes"] == ["Ensure this field has no more than 20 elements."]
    assert errors["offer_response_ids"] == {"0": ["A valid integer is required."]}
