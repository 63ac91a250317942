"""Coupons, their events and their redemptions as hash partitions (PostgreSQL; SQLite keeps plain tables).

Coupons are partitioned on the code: the till finds a coupon by its code, so a lookup prunes to one
partition and probes its code index once. Events and redemptions are partitioned on the coupon they
belong to, so a coupon's history and its redemptions are each in one partition. Django's state does not
change: the models are the same, only their tables are laid out differently (docs/scaling.md).
"""

from django.db import migrations

from config.partitioning import Reference, partition, unpartition

TABLES = (
    # table, partition key, the foreign keys that point at its id
    (
        "coupons_coupon",
        "code",
        (Reference("coupons", "couponredemption", "coupon"), Reference("coupons", "couponresend", "coupon")),
    ),
    ("coupons_couponevent", "coupon_id", ()),
    ("coupons_couponredemption", "coupon_id", ()),
)


def partition_tables(apps, schema_editor):
    for table, key, referenced_by in TABLES:
        partition(apps, schema_editor, table=table, key=key, referenced_by=referenced_by)


def unpartition_tables(apps, schema_editor):
    for table, _key, referenced_by in reversed(TABLES):
        unpartition(apps, schema_editor, table=table, referenced_by=referenced_by)


class Migration(migrations.Migration):
    dependencies = [
        ("coupons", "0016_coupon_checkout_holds"),
    ]

    operations = [
        migrations.RunPython(partition_tables, unpartition_tables),
    ]
