"""Integers reach PostgreSQL whole, whatever the driver's binding: stored exactly as sent, or refused.

With server-side binding psycopg sends a parameter Django typed `integer` as four bytes, so before
config/postgresql a value past 2**31 arrived wrapped (2**32 + 5 as 5) and was stored without an error.
"""

from decimal import Decimal

import pytest
from django.db import DataError, connection, transaction
from django.db.models import F
from django.utils import timezone

from config.actors import Actor
from coupons.models import CouponSeries
from members.models import Member, PointsEntry
from members.services import points_post
from offers.models import Fulfillment
from tests.coupons.factories import CouponSeriesFactory
from tests.members.factories import MemberFactory
from tests.offers.factories import EarningMechanismFactory, OfferFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def test_binding_is_server_side_on_postgres():
    assert connection.features.uses_server_side_binding


@pytest.mark.parametrize("points", [2**31, 2**32 + 5, 10**15])
def test_points_post_moves_the_balance_by_the_whole_value(points):
    member = MemberFactory()

    entry = points_post(member=member, points=points, kind=PointsEntry.Kind.ADJUSTMENT, actor=Actor.system())

    stored = Member.objects.values_list("points_balance", flat=True).get(pk=member.pk)
    assert stored == points
    assert PointsEntry.objects.values_list("points", "balance_after").get(pk=entry.pk) == (points, points)


def test_points_spend_past_32_bits_is_refused_not_wrapped():
    """-(2**32 + 5) wrapped would be -5: a spend the balance of 10 could pay."""
    member = MemberFactory(points=10)

    with pytest.raises(Exception, match="enough points"):
        points_post(member=member, points=-(2**32 + 5), kind=PointsEntry.Kind.SPEND, actor=Actor.system())

    assert Member.objects.values_list("points_balance", flat=True).get(pk=member.pk) == 10


def test_large_purchase_awards_and_credits_the_exact_points(pos):
    member = MemberFactory()
    offer = OfferFactory()
    EarningMechanismFactory(
        offer=offer, behavior_type="spend", sku="", min_quantity=None, min_amount=Decimal("1"),
        award_type="points_per_unit", points=None, points_per_unit=1,
    )  # fmt: skip
    body = {
        "transaction_id": "T-BIG",
        "member": member.external_id,
        "store": "S-MAIN",
        "occurred_at": timezone.now().isoformat(),
        "total_amount": "2147483648.00",
        "items": [],
    }

    response = pos.post("/api/v1/transactions", body, format="json")

    assert response.status_code == 201, response.json()
    assert response.json()["awards"] == [{"offer_id": offer.pk, "points": 2**31}]
    assert Fulfillment.objects.values_list("points", flat=True).get() == 2**31
    assert PointsEntry.objects.values_list("points", "balance_after").get() == (2**31, 2**31)
    assert Member.objects.values_list("points_balance", flat=True).get(pk=member.pk) == 2**31


def test_value_too_large_for_an_integer_column_is_refused_not_stored_wrapped():
    series = CouponSeriesFactory()

    with pytest.raises(DataError, match="out of range"), transaction.atomic():
        CouponSeries.objects.filter(pk=series.pk).update(series_limit=2**40)

    assert CouponSeries.objects.values_list("series_limit", flat=True).get(pk=series.pk) is None


def test_integer_column_keeps_its_type_for_values_that_fit():
    series = CouponSeriesFactory()

    CouponSeries.objects.filter(pk=series.pk).update(series_limit=2**31 - 1)

    assert CouponSeries.objects.values_list("series_limit", flat=True).get(pk=series.pk) == 2**31 - 1


@pytest.mark.parametrize("value", [2**63, 2**64 + 5, -(2**63) - 1])
def test_lookup_past_64_bits_finds_nothing_instead_of_failing(value):
    MemberFactory()

    assert not Member.objects.filter(pk=value).exists()
    assert not Member.objects.filter(transaction_count=value).exists()


def test_expression_past_64_bits_is_refused_by_the_server():
    member = MemberFactory(points=1)

    with pytest.raises(DataError, match="out of range"), transaction.atomic():
        Member.objects.filter(pk=member.pk).update(points_balance=F("points_balance") + 2**63)

    assert Member.objects.values_list("points_balance", flat=True).get(pk=member.pk) == 1


@pytest.mark.parametrize("points", [10**15 + 1, 2**63, 2**64 + 5])
def test_points_credit_past_the_balance_bound_is_refused_whole(points):
    member = MemberFactory()

    with pytest.raises(Exception, match="would pass"):
        points_post(member=member, points=points, kind=PointsEntry.Kind.ADJUSTMENT, actor=Actor.system())

    assert Member.objects.values_list("points_balance", flat=True).get(pk=member.pk) == 0
    assert not PointsEntry.objects.exists()
