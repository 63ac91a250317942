"""A basket's lines checked plainly (`plain_lines`) give exactly what the input serializer gives, or leave the
decision (and its messages) to the serializer."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.plain_input_strategies import prices, quantities, texts
from till.baskets.serializers import BasketLineInputSerializer, plain_lines

line = st.fixed_dictionaries({"line_ref": texts, "sku": texts, "quantity": quantities, "unit_price": prices})


def serializer_lines(value):
    serializer = BasketLineInputSerializer(data=value, many=True)
    return [dict(row) for row in serializer.validated_data] if serializer.is_valid() else None


@settings(max_examples=300, deadline=None)
@given(st.lists(line, min_size=0, max_size=4))
def test_plain_lines_agree_with_the_serializer_whenever_they_decide(value):
    plain = plain_lines(value)
    if plain is not None:
        assert plain == serializer_lines(value)
        assert [str(row["unit_price"]) for row in plain] == [str(row["unit_price"]) for row in serializer_lines(value)]


def test_a_tills_ordinary_lines_take_the_plain_path():
    value = [
        {"line_ref": "1", "sku": "SKU-1", "quantity": 2, "unit_price": "2.49"},
        {"line_ref": "2", "sku": "MILK 1L", "quantity": 1, "unit_price": "3"},
        {"line_ref": "3", "sku": "WINE", "quantity": 1, "unit_price": 12},
    ]
    assert plain_lines(value) == serializer_lines(value)


def test_lines_the_serializer_must_judge_are_left_to_it():
    for bad in (
        [{"line_ref": " 1", "sku": "A", "quantity": 1, "unit_price": "1"}],  # the serializer trims
        [{"line_ref": "1", "sku": "A", "quantity": True, "unit_price": "1"}],
        [{"line_ref": "1", "sku": "A", "quantity": 1, "unit_price": "1.005"}],
        [{"line_ref": "1\x00", "sku": "A", "quantity": 1, "unit_price": "1"}],
        [{"line_ref": "1", "sku": "A", "quantity": 100_001, "unit_price": "1"}],
        [],
        "lines",
    ):
        assert plain_lines(bad) is None


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/v1/baskets/evaluate", "/api/v1/checkouts"])
def test_a_body_that_is_no_basket_is_400_naming_every_bad_field(pos, store, path):
    assert pos.post(path, [1, 2], format="json").status_code == 400
    body = {"member": "NOBODY", "store": store.code, "transaction_id": "T-1", "offer_response_ids": [3, 3],
            "lines": [{"line_ref": "1", "sku": "A", "quantity": 1, "unit_price": "1"}] * 2}  # fmt: skip
    response = pos.post(path, body, format="json")
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["member", "lines", "offer_response_ids"]
