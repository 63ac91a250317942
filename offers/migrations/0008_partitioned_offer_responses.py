"""Offer responses as hash partitions on the member (PostgreSQL; SQLite keeps a plain table).

A member's responses, which the POS and the claim rules read, are in one partition, and the one-open-
response-per-member unique index holds the member, as a partitioned table's unique indexes must.
Django's state does not change (docs/scaling.md).
"""

from django.conf import settings
from django.db import migrations

from config.partitioning import large_tables_partition, large_tables_unpartition

TABLES = ("offers_offerresponse",)


def partition_responses(apps, schema_editor):
    # Only when the operator asks for it (PARTITION_LARGE_TABLES; `manage.py partition_tables` later).
    if settings.PARTITION_LARGE_TABLES:
        large_tables_partition(apps, schema_editor, tables=TABLES)


def unpartition_responses(apps, schema_editor):
    large_tables_unpartition(apps, schema_editor, tables=TABLES)


class Migration(migrations.Migration):
    dependencies = [
        ("offers", "0007_offer_rules_version"),
    ]

    operations = [
        migrations.RunPython(partition_responses, unpartition_responses),
    ]
