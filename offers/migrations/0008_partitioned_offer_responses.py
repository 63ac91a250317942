"""Offer responses as hash partitions on the member (PostgreSQL; SQLite keeps a plain table).

A member's responses, which the POS and the claim rules read, are in one partition, and the one-open-
response-per-member unique index holds the member, as a partitioned table's unique indexes must.
Django's state does not change (docs/scaling.md).
"""

from django.db import migrations

from config.partitioning import Reference, partition, unpartition

TABLE = "offers_offerresponse"
REFERENCED_BY = (Reference("offers", "offerresponseevent", "response"),)


def partition_responses(apps, schema_editor):
    partition(apps, schema_editor, table=TABLE, key="member_id", referenced_by=REFERENCED_BY)


def unpartition_responses(apps, schema_editor):
    unpartition(apps, schema_editor, table=TABLE, referenced_by=REFERENCED_BY)


class Migration(migrations.Migration):
    dependencies = [
        ("offers", "0007_offer_rules_version"),
    ]

    operations = [
        migrations.RunPython(partition_responses, unpartition_responses),
    ]
