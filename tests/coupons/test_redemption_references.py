"""A redemption's coupon, series, member and store are references the services keep, not database foreign keys
(migration coupons 0018): no per-row check at commit, and deletes of what a redemption names still refused."""

from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import ProtectedError

from coupons.models import CouponRedemption
from tests.coupons.factories import CouponFactory
from tests.members.factories import OrgEntityFactory
from tests.partitions import migrate_to

pytestmark = pytest.mark.django_db

BEFORE = ("coupons", "0017_partitioned_coupons")
AFTER = ("coupons", "0018_redemption_references_without_fk_triggers")


def foreign_keys_of_redemptions() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT a.attname FROM pg_constraint c JOIN pg_attribute a"
            " ON a.attrelid = c.conrelid AND a.attnum = ANY(c.conkey)"
            " WHERE c.contype = 'f' AND c.conrelid = 'coupons_couponredemption'::regclass"
        )
        return {name for (name,) in cursor.fetchall()}


def coupon_only_indexes() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]"
            " WHERE i.indrelid = 'coupons_couponredemption'::regclass AND i.indnatts = 1 AND a.attname = 'coupon_id'"
        )
        return cursor.fetchone()[0]


def redemption_of(coupon, store):
    return CouponRedemption.objects.create(coupon=coupon, series=coupon.series, member=coupon.member,
                                           store=store, bill_amount=Decimal("50.00"),
                                           discount_amount=Decimal("5.00"), currency="EUR", actor="system",
                                           channel="pos")  # fmt: skip


@pytest.mark.postgres
def test_the_migration_drops_the_four_checks_and_the_coupon_index_and_going_back_makes_them_again():
    assert foreign_keys_of_redemptions() == set()
    assert coupon_only_indexes() == 0  # reads by coupon use the (coupon, member, redeemed_at) index

    migrate_to(BEFORE)
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_partitioned_table WHERE partrelid = 'coupons_coupon'::regclass")
        coupons_partitioned = cursor.fetchone() is not None
    # a foreign key cannot point at a partitioned table's id: the coupon's is made only on plain tables
    expected = {"series_id", "member_id", "store_id"} | (set() if coupons_partitioned else {"coupon_id"})
    assert foreign_keys_of_redemptions() == expected
    assert coupon_only_indexes() == 1

    migrate_to(AFTER)
    assert foreign_keys_of_redemptions() == set()
    assert coupon_only_indexes() == 0


def test_a_redeemed_coupon_and_the_store_of_its_redemption_cannot_be_deleted():
    coupon, store = CouponFactory(), OrgEntityFactory()
    redemption_of(coupon, store)
    with pytest.raises(ProtectedError):
        coupon.delete()
    with pytest.raises(ProtectedError):
        store.delete()
    assert CouponRedemption.objects.filter(coupon=coupon).count() == 1
