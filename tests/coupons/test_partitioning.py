"""Coupons, coupon events and coupon redemptions as hash partitions on PostgreSQL (migration coupons 0017)."""

import io
from decimal import Decimal

import pgtrigger.core
import pytest
from django.db import IntegrityError, connection, transaction

from config.partitioning import PARTITIONS, is_partitioned, partitions_of
from coupons.models import Coupon, CouponEvent, CouponRedemption
from coupons.redemption import statements as till
from tests.conftest import ON_POSTGRES
from tests.coupons.factories import CouponFactory, CouponSeriesFactory
from tests.members.factories import MemberFactory, OrgEntityFactory
from tests.partitions import migrate_to, partition_holding, plan_of, scans, with_values

pytestmark = pytest.mark.django_db

BEFORE = ("coupons", "0016_coupon_checkout_holds")
PARTITIONED = ("coupons", "0017_partitioned_coupons")
TABLES = {"coupons_coupon": "code", "coupons_couponevent": "coupon_id", "coupons_couponredemption": "coupon_id"}


def redemption_of(coupon, store):
    return CouponRedemption.objects.create(coupon=coupon, series=coupon.series, member=coupon.member, store=store,
                                           bill_amount=Decimal("50.00"), discount_amount=Decimal("5.00"),
                                           currency="EUR", actor="system", channel="pos")  # fmt: skip


def coupon_scans_by_code(plan):
    return [
        node
        for node in scans(plan)
        if node["Relation Name"].startswith("coupons_coupon_p") and "code" in node.get("Index Cond", "")
    ]


@pytest.mark.postgres
def test_the_three_tables_are_hash_partitioned_on_their_key():
    with connection.cursor() as cursor:
        for table, key in TABLES.items():
            assert is_partitioned(cursor, table)
            assert partitions_of(cursor, table) == [f"{table}_p{number:02d}" for number in range(PARTITIONS)]
            cursor.execute(
                "SELECT partstrat, pg_get_partkeydef(partrelid) FROM pg_partitioned_table"
                " WHERE partrelid = %s::regclass",
                [table],
            )
            assert cursor.fetchone() == ("h", f"HASH ({key})")


@pytest.mark.postgres
def test_rows_of_one_coupon_are_spread_by_code_and_kept_together_by_coupon(store):
    coupons = [CouponFactory() for _ in range(40)]
    holding = {partition_holding("coupons_coupon", id=coupon.pk) for coupon in coupons}
    assert len(holding) > 1  # 40 codes do not all hash to one of 16 partitions
    coupon = coupons[0]
    CouponEvent.objects.create(coupon=coupon, new_status="issued", actor="system", channel="test")
    CouponEvent.objects.create(coupon=coupon, old_status="issued", new_status="redeemed", actor="system", channel="t")
    redemption_of(coupon, store)
    with connection.cursor() as cursor:
        cursor.execute("SELECT DISTINCT tableoid FROM coupons_couponevent WHERE coupon_id = %s", [coupon.pk])
        assert len(cursor.fetchall()) == 1


@pytest.mark.postgres
def test_the_tills_code_lookup_reads_one_partition_through_its_code_index(store):
    coupons = [CouponFactory() for _ in range(20)]
    coupon = coupons[7]
    params = [coupon.code, coupon.code, coupon.member_id, coupon.code, coupon.code]
    plan = plan_of(till.COUPON_SQL, params)
    probes = coupon_scans_by_code(plan)
    # three probes (unique code; the member's common code; the newest common code) and the read of the row they
    # found, each in the code's partition
    assert len(probes) == 4
    assert {node["Relation Name"] for node in probes} == {partition_holding("coupons_coupon", id=coupon.pk)}
    indexes = ("coupons_coupon_code_unique_p", "coupons_coupon_common_once_per_member_p")
    assert {node["Index Name"].startswith(indexes) or node["Index Name"].endswith("_pkey") for node in probes} == {True}
    with connection.cursor() as cursor:
        cursor.execute(till.COUPON_SQL, params)
        assert cursor.fetchone()[0] == coupon.pk
    # the read of the row by the id it found names the code too, so it probes that one partition, not all 16
    touched = {node["Relation Name"] for node in scans(plan) if node["Relation Name"].startswith("coupons_coupon_p")}
    assert touched == {partition_holding("coupons_coupon", id=coupon.pk)}


@pytest.mark.postgres
def test_the_validate_statement_reads_one_partition_for_the_code(store):
    coupon = CouponFactory()
    params = ["2026-01-01T00:00:00Z", "client", "address", coupon.member.external_id, store.code] + [coupon.code] * 4
    plan = plan_of(till.CONTEXT_AND_COUPON_SQL, params)
    probes = coupon_scans_by_code(plan)
    assert {node["Relation Name"] for node in probes} == {partition_holding("coupons_coupon", id=coupon.pk)}
    touched = {node["Relation Name"] for node in scans(plan) if node["Relation Name"].startswith("coupons_coupon_p")}
    assert touched == {partition_holding("coupons_coupon", id=coupon.pk)}


@pytest.mark.postgres
def test_a_generic_plan_prunes_the_other_partitions_when_it_runs():
    """A prepared statement (server-side binding) may run a generic plan: the code is then a parameter,
    and the partitions it cannot be in are removed as the plan starts."""
    coupon = CouponFactory()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL plan_cache_mode = force_generic_plan")
        cursor.execute("PREPARE lookup (text) AS SELECT id FROM coupons_coupon WHERE code = $1 AND NOT is_common")
        plan = plan_of(with_values("EXECUTE lookup(%s)", [coupon.code]))
        cursor.execute("DEALLOCATE lookup")
    assert plan["Subplans Removed"] == PARTITIONS - 1
    assert [node["Relation Name"] for node in scans(plan)] == [partition_holding("coupons_coupon", id=coupon.pk)]


@pytest.mark.postgres
def test_codes_stay_unique_across_partitions():
    CouponFactory(code="ONCE0001")
    with pytest.raises(IntegrityError), transaction.atomic():
        CouponFactory(code="ONCE0001")
    series = CouponSeriesFactory(common=True)
    member = MemberFactory()
    CouponFactory(series=series, code="SAVE10", is_common=True, member=member)
    CouponFactory(series=series, code="SAVE10", is_common=True)
    with pytest.raises(IntegrityError), transaction.atomic():
        CouponFactory(series=series, code="SAVE10", is_common=True, member=member)


@pytest.mark.postgres
@pytest.mark.parametrize("model", [CouponEvent, CouponRedemption])
def test_the_append_only_triggers_are_installed_on_the_partitioned_tables(model):
    for trigger in model._meta.triggers:
        assert trigger.get_installation_status(model)[0] == pgtrigger.core.INSTALLED
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'pgtrigger_append_only_%%' AND tgparentid <> 0"
            " AND tgrelid IN (SELECT inhrelid FROM pg_inherits WHERE inhparent = %s::regclass)",
            [model._meta.db_table],
        )
        assert cursor.fetchone()[0] == 2 * PARTITIONS


@pytest.mark.postgres
def test_events_and_redemptions_refuse_changes_in_every_partition_but_the_reversal(store):
    coupon = CouponFactory()
    event = CouponEvent.objects.create(coupon=coupon, new_status="issued", actor="system", channel="test")
    redemption = redemption_of(coupon, store)
    for change in (
        lambda: CouponEvent.objects.filter(pk=event.pk).update(reason="edited"),
        lambda: CouponEvent.objects.filter(pk=event.pk).delete(),
        lambda: CouponRedemption.objects.filter(pk=redemption.pk).update(discount_amount=Decimal("9.00")),
        lambda: CouponRedemption.objects.filter(pk=redemption.pk)._raw_delete(connection.alias),
    ):
        with pytest.raises(Exception, match="pgtrigger: Cannot"), transaction.atomic():
            change()
    with pytest.raises(Exception, match="Cannot delete rows from coupons_couponevent table"), transaction.atomic():
        CouponEvent.objects.filter(pk=event.pk)._raw_delete(connection.alias)
    CouponRedemption.objects.filter(pk=redemption.pk).update(is_reversed=True, reversed_at=coupon.issued_at)
    assert CouponRedemption.objects.get(pk=redemption.pk).is_reversed


@pytest.mark.postgres
def test_the_migration_converts_tables_holding_rows_and_back(store):
    migrate_to(BEFORE)
    with connection.cursor() as cursor:
        assert not any(is_partitioned(cursor, table) for table in TABLES)
    coupons = [CouponFactory() for _ in range(30)]
    events = [CouponEvent.objects.create(coupon=c, new_status="issued", actor="system", channel="t") for c in coupons]
    redemptions = [redemption_of(coupon, store) for coupon in coupons[:5]]
    before = {
        "coupons": sorted(Coupon.objects.values_list("id", "code", "member_id", "status")),
        "events": sorted(CouponEvent.objects.values_list("id", "coupon_id", "new_status")),
        "redemptions": sorted(CouponRedemption.objects.values_list("id", "coupon_id", "discount_amount")),
    }

    migrate_to(PARTITIONED)

    with connection.cursor() as cursor:
        for table in TABLES:
            assert is_partitioned(cursor, table)
            assert len(partitions_of(cursor, table)) == PARTITIONS
        cursor.execute(
            "SELECT count(*) FROM pg_constraint WHERE contype = 'f' AND confrelid = 'coupons_coupon'::regclass"
        )
        assert cursor.fetchone()[0] == 0
    assert sorted(Coupon.objects.values_list("id", "code", "member_id", "status")) == before["coupons"]
    assert sorted(CouponEvent.objects.values_list("id", "coupon_id", "new_status")) == before["events"]
    assert sorted(CouponRedemption.objects.values_list("id", "coupon_id", "discount_amount")) == before["redemptions"]
    # the identity goes on after the moved rows
    assert CouponFactory().pk > max(coupon.pk for coupon in coupons)
    assert CouponEvent.objects.create(coupon=coupons[0], new_status="x", actor="a", channel="t").pk > events[-1].pk
    assert redemption_of(coupons[6], store).pk > redemptions[-1].pk
    with pytest.raises(Exception, match="pgtrigger: Cannot"), transaction.atomic():
        CouponEvent.objects.filter(pk=events[0].pk).delete()

    migrate_to(BEFORE)
    with connection.cursor() as cursor:
        assert not any(is_partitioned(cursor, table) for table in TABLES)
        cursor.execute(
            "SELECT count(*) FROM pg_constraint WHERE contype = 'f' AND confrelid = 'coupons_coupon'::regclass"
        )
        assert cursor.fetchone()[0] == 2  # redemptions and resends point at their coupon again
    assert Coupon.objects.count() == len(coupons) + 1
    migrate_to(PARTITIONED)


@pytest.mark.skipif(ON_POSTGRES, reason="SQLite only")
def test_sqlite_keeps_plain_tables():
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name LIKE 'coupons_coupon_p%'")
        assert cursor.fetchone()[0] == 0
    assert CouponFactory(code="PLAIN001").code == "PLAIN001"
    assert OrgEntityFactory().pk


@pytest.mark.postgres
def test_partition_tables_command_makes_plain_tables_and_back_keeping_the_rows(store):
    from django.core.management import call_command

    coupon = CouponFactory()
    out = io.StringIO()
    call_command("partition_tables", "--undo", stdout=out)
    with connection.cursor() as cursor:
        assert not any(is_partitioned(cursor, table) for table in (*TABLES, "offers_offerresponse"))
    assert "Now plain" in out.getvalue()

    call_command("partition_tables", stdout=out)
    call_command("partition_tables", stdout=out)  # a second run has nothing to do
    with connection.cursor() as cursor:
        assert all(is_partitioned(cursor, table) for table in (*TABLES, "offers_offerresponse"))
    assert out.getvalue().rstrip().endswith("Nothing to do: the tables were already partitioned.")
    assert Coupon.objects.get(code=coupon.code).pk == coupon.pk


def test_the_large_tables_stay_plain_unless_the_operator_asks():
    from config.settings import base

    assert base.PARTITION_LARGE_TABLES is False
