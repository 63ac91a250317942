"""Coupons, their events and their redemptions as hash partitions (PostgreSQL; SQLite keeps plain tables).

Coupons are partitioned on the code: the till finds a coupon by its code, so a lookup prunes to one
partition and probes its code index once. Events and redemptions are partitioned on the coupon they
belong to, so a coupon's history and its redemptions are each in one partition. Django's state does not
change: the models are the same, only their tables are laid out differently (docs/scaling.md).
"""

from django.conf import settings
from django.db import migrations

from config.partitioning import large_tables_partition, large_tables_unpartition

TABLES = ("coupons_coupon", "coupons_couponevent", "coupons_couponredemption")


def partition_tables(apps, schema_editor):
    # Only when the operator asks for it (PARTITION_LARGE_TABLES; `manage.py partition_tables` later).
    if settings.PARTITION_LARGE_TABLES:
        large_tables_partition(apps, schema_editor, tables=TABLES)


def unpartition_tables(apps, schema_editor):
    large_tables_unpartition(apps, schema_editor, tables=TABLES)


class Migration(migrations.Migration):
    dependencies = [
        ("coupons", "0016_coupon_checkout_holds"),
    ]

    operations = [
        migrations.RunPython(partition_tables, unpartition_tables),
    ]
