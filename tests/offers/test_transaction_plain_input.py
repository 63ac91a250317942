"""A purchase's body checked plainly (`plain_transaction`) gives exactly what `TransactionInputSerializer` gives, or
leaves the decision (and its messages) to the serializer."""

from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from members.models import Member, OrgEntity
from offers.api.serializers import TransactionInputSerializer, plain_items, plain_transaction, transaction_input
from offers.models import Transaction
from tests.plain_input_strategies import prices, quantities, texts

pytestmark = pytest.mark.django_db

MISSING = object()
amounts = st.one_of(prices, st.none())
item = st.fixed_dictionaries({"sku": texts, "quantity": quantities, "unit_price": amounts})
items = st.one_of(st.lists(item, max_size=4), st.just("items"), st.none(), st.lists(st.integers(), max_size=2))
members = st.sampled_from(["M-1", "M-2", "NOBODY", "", None, 7, "M-1\x00", " M-1"])
stores = st.sampled_from(["S-1", "T-1", "Z-1", "NOWHERE", "", None, 3])
times = st.sampled_from(
    ["2026-05-01T09:30:00+02:00", "2026-05-01T09:30:00Z", "2026-05-01T09:30:00", "yesterday", "", None, 5]
)
transaction_ids = st.one_of(texts, st.just("T" * 100), st.just("T" * 101), st.just(" T-1 "))


def body_of(draw_values):
    return {name: value for name, value in draw_values.items() if value is not MISSING}


bodies = st.fixed_dictionaries(
    {
        "transaction_id": st.one_of(transaction_ids, st.just(MISSING)),
        "member": st.one_of(members, st.just(MISSING)),
        "store": st.one_of(stores, st.just(MISSING)),
        "occurred_at": st.one_of(times, st.just(MISSING)),
        "total_amount": st.one_of(amounts, st.just(MISSING)),
        "items": st.one_of(items, st.just(MISSING)),
    }
).map(body_of)


def program():
    Member.objects.get_or_create(external_id="M-1")
    Member.objects.get_or_create(external_id="M-2")
    for code, kind in (("S-1", OrgEntity.Type.STORE), ("T-1", OrgEntity.Type.TILL), ("Z-1", OrgEntity.Type.ZONE)):
        OrgEntity.objects.get_or_create(code=code, defaults={"type": kind, "name": code})


def serializer_values(body):
    serializer = TransactionInputSerializer(data=body)
    return dict(serializer.validated_data) if serializer.is_valid() else None


def stored(values):
    """What a purchase keeps of its input: the fields as the service writes them."""
    return {
        **values,
        "total_amount": str(values["total_amount"]),
        "items": [{**i, "unit_price": str(i["unit_price"])} for i in values["items"]],
    }


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(bodies)
def test_the_plain_check_agrees_with_the_serializer_whenever_it_decides(body):
    program()
    plain = plain_transaction(body)
    if plain is not None:
        expected = serializer_values(body)
        assert expected is not None
        assert plain == expected
        assert list(plain) == list(expected)
        assert stored(plain) == stored(expected)


def test_a_tills_ordinary_purchase_takes_the_plain_path():
    program()
    body = {
        "transaction_id": "T-1",
        "member": "M-1",
        "store": "S-1",
        "occurred_at": "2026-05-01T09:30:00+02:00",
        "total_amount": "12.5",
        "items": [
            {"sku": "MILK", "quantity": 2, "unit_price": "2.49"},
            {"sku": "WINE", "quantity": 1, "unit_price": 7},
        ],
    }
    plain = plain_transaction(body)
    assert plain is not None
    assert plain == serializer_values(body)
    assert plain["total_amount"] == Decimal("12.50")
    assert [str(i["unit_price"]) for i in plain["items"]] == ["2.49", "7.00"]
    assert plain_transaction({k: v for k, v in body.items() if k != "items"})["items"] == []


def test_bodies_the_serializer_must_judge_are_left_to_it():
    program()
    good = {"transaction_id": "T-1", "member": "M-1", "store": "S-1", "total_amount": "1", "items": []}
    for change in (
        {"member": "NOBODY"},
        {"store": "Z-1"},  # a zone is no store
        {"member": 7},
        {"total_amount": "1.005"},
        {"transaction_id": "T" * 101},
        {"occurred_at": "2026-05-01T09:30:00"},
        {"items": None},
    ):
        assert plain_transaction({**good, **change}) is None
    assert plain_transaction([good]) is None
    for bad in (
        [{"sku": " MILK", "quantity": 1, "unit_price": "1"}],
        [{"sku": "MILK", "quantity": True, "unit_price": "1"}],
        [{"sku": "MILK", "quantity": 1, "unit_price": 1.5}],
        [{"sku": "MILK", "quantity": 100_001, "unit_price": "1"}],
        [{"sku": "M" * 65, "quantity": 1, "unit_price": "1"}],
        "items",
    ):
        assert plain_items(bad) is None


def test_a_body_that_is_not_plain_is_answered_by_the_serializer():
    program()
    with pytest.raises(Exception) as raised:
        transaction_input({"transaction_id": "T-1", "member": "NOBODY", "store": "S-1", "total_amount": "x"})
    assert set(raised.value.detail) == {"member", "total_amount"}


def test_a_purchase_over_the_api_stores_what_the_serializer_would_have(pos, store):
    member = Member.objects.create(external_id="M-9")
    items = [{"sku": "MILK", "quantity": 2, "unit_price": "2.5"}]
    body = {"transaction_id": "T-9", "member": "M-9", "store": store.code, "total_amount": "5", "items": items}
    response = pos.post("/api/v1/transactions", body, format="json")
    assert response.status_code == 201
    assert response.json() == {"transaction_id": "T-9", "awards": [], "points_balance": 0}
    row = Transaction.objects.get(transaction_id="T-9")
    assert row.member == member and row.total_amount == Decimal("5.00")
    assert row.items == [{"sku": "MILK", "quantity": 2, "unit_price": "2.50"}]
