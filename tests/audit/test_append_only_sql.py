"""On PostgreSQL the append-only tables refuse UPDATE and DELETE in SQL too, whoever sends it."""

import pytest
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from coupons.models import CouponRedemption
from rewards.models import RewardRedemption
from tests.members.factories import MemberFactory

from .rows import MAKERS

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

TABLES = sorted(MAKERS, key=lambda model: model._meta.label)


def _refused(sql, params) -> str:
    with pytest.raises(DatabaseError) as caught, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)
    return str(caught.value)


@pytest.mark.parametrize("model", TABLES, ids=lambda model: model._meta.label)
def test_raw_update_of_a_history_row_is_refused(model):
    row = MAKERS[model]()
    table = model._meta.db_table

    message = _refused(f'UPDATE "{table}" SET "actor" = %s WHERE "id" = %s', ["someone else", row.pk])

    assert f"Cannot update rows from {table} table" in message
    assert model.objects.get(pk=row.pk).actor == row.actor


@pytest.mark.parametrize("model", TABLES, ids=lambda model: model._meta.label)
def test_raw_delete_of_a_history_row_is_refused(model):
    row = MAKERS[model]()
    table = model._meta.db_table

    message = _refused(f'DELETE FROM "{table}" WHERE "id" = %s', [row.pk])

    assert f"Cannot delete rows from {table} table" in message
    assert model.objects.filter(pk=row.pk).exists()


def test_coupon_redemption_may_be_marked_reversed_once_and_nothing_else():
    redemption = MAKERS[CouponRedemption]()
    table = CouponRedemption._meta.db_table

    _refused(f'UPDATE "{table}" SET "is_reversed" = true, "discount_amount" = 0 WHERE "id" = %s', [redemption.pk])
    CouponRedemption.objects.filter(pk=redemption.pk).update(is_reversed=True, reversed_at=timezone.now())
    _refused(f'UPDATE "{table}" SET "is_reversed" = false, "reversed_at" = NULL WHERE "id" = %s', [redemption.pk])

    assert CouponRedemption.objects.get(pk=redemption.pk).is_reversed is True


def test_reward_redemption_may_be_assigned_once_and_nothing_else():
    redemption = MAKERS[RewardRedemption]()
    first, second = MemberFactory(), MemberFactory()
    table = RewardRedemption._meta.db_table

    _refused(f'UPDATE "{table}" SET "kind" = %s WHERE "id" = %s', ["award", redemption.pk])
    RewardRedemption.objects.filter(pk=redemption.pk).update(member=first, points_spent=5, assigned_at=timezone.now())
    _refused(f'UPDATE "{table}" SET "member_id" = %s WHERE "id" = %s', [second.pk, redemption.pk])

    assert RewardRedemption.objects.get(pk=redemption.pk).member_id == first.pk
