"""Offers and purchases: limits, awards, minimums, amounts, quantities and prices at and past their ranges."""

from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from config import ranges
from members.models import Member, PointsEntry
from offers.models import EarningMechanism, Offer, OfferLimit, Transaction
from tests.extremes import inside, outside
from tests.members.factories import MemberFactory
from tests.offers.factories import EarningMechanismFactory, OfferFactory

pytestmark = pytest.mark.django_db


def offer_body(*, behavior=None, award=None, limits=()):
    return {
        "external_id": "BIG-1",
        "name": "Bounds",
        "earning_mechanism": {
            "behavior": behavior or {"type": "purchase_product", "sku": "MILK", "min_quantity": 1},
            "award": award or {"type": "points", "points": 10},
        },
        "limits": list(limits),
    }


def create(marketer, **parts):
    return marketer.post("/api/v1/offers", offer_body(**parts), format="json")


def assert_refused(response, *path):
    assert response.status_code == 400, response.json()
    errors = response.json()["errors"]
    for key in path:
        errors = errors.get("0", errors) if isinstance(errors, dict) else errors[0]
        assert key in errors, errors
        errors = errors[key]
    assert not Offer.objects.exists()


@pytest.mark.parametrize("value", outside(ranges.COUNT))
def test_offer_limit_max_count_outside_its_range_is_400(marketer, value):
    response = create(marketer, limits=[{"scope": "global", "kind": "fulfillment", "max_count": value}])

    assert_refused(response, "limits", "max_count")


@pytest.mark.parametrize("value", inside(ranges.COUNT))
def test_offer_limit_max_count_at_its_bounds_is_stored_exactly(marketer, value):
    response = create(marketer, limits=[{"scope": "global", "kind": "fulfillment", "max_count": value}])

    assert response.status_code == 201, response.json()
    assert OfferLimit.objects.values_list("max_count", flat=True).get() == value


@pytest.mark.parametrize("field", ["points", "points_per_unit"])
@pytest.mark.parametrize("value", outside(ranges.AWARD_POINTS))
def test_offer_award_points_outside_their_range_are_400(marketer, field, value):
    response = create(marketer, award={"type": field, field: value})

    assert_refused(response, "earning_mechanism", "award", field)


@pytest.mark.parametrize("field", ["points", "points_per_unit"])
@pytest.mark.parametrize("value", inside(ranges.AWARD_POINTS))
def test_offer_award_points_at_their_bounds_are_stored_exactly(marketer, field, value):
    response = create(marketer, award={"type": field, field: value})

    assert response.status_code == 201, response.json()
    assert EarningMechanism.objects.values_list(field, flat=True).get() == value


@pytest.mark.parametrize("value", outside(ranges.POSITIVE_COUNT))
def test_offer_min_quantity_outside_its_range_is_400(marketer, value):
    response = create(marketer, behavior={"type": "purchase_product", "sku": "MILK", "min_quantity": value})

    assert_refused(response, "earning_mechanism", "behavior", "min_quantity")


@pytest.mark.parametrize("value", ["-0.01", "10000000000.00", "1e400", "NaN", "Infinity", "0.001"])
def test_offer_min_amount_outside_its_range_is_400(marketer, value):
    response = create(marketer, behavior={"type": "spend", "min_amount": value})

    assert_refused(response, "earning_mechanism", "behavior", "min_amount")


def test_offer_min_amount_and_min_quantity_at_their_bounds_are_stored_exactly(marketer):
    assert create(marketer, behavior={"type": "spend", "min_amount": "9999999999.99"}).status_code == 201
    body = offer_body(behavior={"type": "purchase_product", "sku": "MILK", "min_quantity": ranges.COUNT_MAX})
    assert marketer.post("/api/v1/offers", {**body, "external_id": "BIG-2"}, format="json").status_code == 201

    assert EarningMechanism.objects.get(offer__external_id="BIG-1").min_amount == Decimal("9999999999.99")
    assert EarningMechanism.objects.get(offer__external_id="BIG-2").min_quantity == ranges.COUNT_MAX


@pytest.mark.parametrize("value", [2**31, 2**32 + 5, -1])
def test_offer_patch_limit_outside_its_range_is_400_and_keeps_the_limit(marketer, value):
    offer_id = create(marketer, limits=[{"scope": "global", "kind": "fulfillment", "max_count": 5}]).json()["id"]

    response = marketer.patch(
        f"/api/v1/offers/{offer_id}",
        {"limits": [{"scope": "global", "kind": "fulfillment", "max_count": value}]},
        format="json",
    )

    assert response.status_code == 400
    assert OfferLimit.objects.values_list("max_count", flat=True).get() == 5


def purchase(pos, member, *, total="10.00", quantity=1, unit_price="2.50"):
    body = {
        "transaction_id": "T-1",
        "member": member.external_id,
        "store": "S-MAIN",
        "occurred_at": timezone.now().isoformat(),
        "total_amount": total,
        "items": [{"sku": "MILK", "quantity": quantity, "unit_price": unit_price}],
    }
    return pos.post("/api/v1/transactions", body, format="json")


@pytest.mark.parametrize("total", ["-1.00", "10000000000.00", "2e400", "NaN", "1.001", str(2**63)])
def test_transaction_total_amount_outside_its_range_is_400(pos, total):
    member = MemberFactory()

    response = purchase(pos, member, total=total)

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["total_amount"]
    assert not Transaction.objects.exists()


@pytest.mark.parametrize("quantity", outside(ranges.QUANTITY))
def test_transaction_quantity_outside_its_range_is_400(pos, quantity):
    response = purchase(pos, MemberFactory(), quantity=quantity)

    assert response.status_code == 400
    assert list(response.json()["errors"]["items"]["0"]) == ["quantity"]
    assert not Transaction.objects.exists()


@pytest.mark.parametrize("price", ["-0.01", "10000000000.00", "Infinity", str(2**63)])
def test_transaction_unit_price_outside_its_range_is_400(pos, price):
    response = purchase(pos, MemberFactory(), unit_price=price)

    assert response.status_code == 400
    assert list(response.json()["errors"]["items"]["0"]) == ["unit_price"]
    assert not Transaction.objects.exists()


def test_transaction_at_the_bounds_awards_and_stores_exactly(pos):
    member = MemberFactory()
    EarningMechanismFactory(
        offer=OfferFactory(), sku="MILK", min_quantity=1, award_type="points_per_unit", points=None,
        points_per_unit=ranges.AWARD_POINTS.max,
    )  # fmt: skip

    response = purchase(pos, member, total="9999999999.99", quantity=ranges.QUANTITY.max, unit_price="9999999999.99")

    assert response.status_code == 201, response.json()
    points = ranges.AWARD_POINTS.max * ranges.QUANTITY.max
    row = Transaction.objects.get()
    assert row.total_amount == Decimal("9999999999.99")
    assert row.items == [{"sku": "MILK", "quantity": ranges.QUANTITY.max, "unit_price": "9999999999.99"}]
    assert PointsEntry.objects.values_list("points", flat=True).get() == points
    assert Member.objects.values_list("points_balance", flat=True).get(pk=member.pk) == points


def _inline_management(prefix, total=0):
    return {f"{prefix}-TOTAL_FORMS": str(total), f"{prefix}-INITIAL_FORMS": "0",
            f"{prefix}-MIN_NUM_FORMS": "0", f"{prefix}-MAX_NUM_FORMS": "1000"}  # fmt: skip


@pytest.mark.parametrize(
    "field, value",
    [("earning_mechanism-0-points", str(2**32 + 5)), ("earning_mechanism-0-points", "1000001"),
     ("earning_mechanism-0-min_quantity", str(2**31)), ("limits-0-max_count", str(2**32 + 5)),
     ("limits-0-max_count", "-1"), ("audiences-0-min_age", "151")],
)  # fmt: skip
def test_offer_admin_form_refuses_values_outside_their_ranges(admin_client, field, value):
    data = {
        "external_id": "ADM-1", "name": "Admin offer", "fulfillment_flow": "standard",
        **_inline_management("earning_mechanism", 1),
        "earning_mechanism-0-behavior_type": "purchase_product", "earning_mechanism-0-sku": "MILK",
        "earning_mechanism-0-min_quantity": "1", "earning_mechanism-0-award_type": "points",
        "earning_mechanism-0-points": "25",
        **_inline_management("audiences", 1), "audiences-0-type": "age", "audiences-0-min_age": "18",
        **_inline_management("limits", 1), "limits-0-scope": "global", "limits-0-kind": "activation",
        "limits-0-max_count": "100",
        **_inline_management("marketing_contents"),
    }  # fmt: skip
    data[field] = value

    response = admin_client.post(reverse("admin:offers_offer_add"), data)

    assert response.status_code == 200
    assert not Offer.objects.exists()


def test_purchase_whose_award_would_pass_the_balance_bound_is_409_and_records_nothing(pos):
    member = MemberFactory()
    EarningMechanismFactory(
        offer=OfferFactory(), behavior_type="spend", sku="", min_quantity=None, min_amount=Decimal("1"),
        award_type="points_per_unit", points=None, points_per_unit=ranges.AWARD_POINTS.max,
    )  # fmt: skip

    response = purchase(pos, member, total="9999999999.99")

    assert response.status_code == 409
    assert response.json()["reasons"] == ["points_balance_limit"]
    assert not Transaction.objects.exists() and not PointsEntry.objects.exists()
    assert Member.objects.values_list("points_balance", flat=True).get(pk=member.pk) == 0
