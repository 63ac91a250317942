"""Indexes for the admin's member search by the start of a first or last name, case-insensitively.

Django writes `first_name__istartswith="Kim"` as `UPPER("first_name"::text) LIKE UPPER('Kim%')`; on PostgreSQL an
index on the same expression with text_pattern_ops answers it whatever the database's collation. SQLite has no
operator classes, and its lists are small: there the search goes without. The indexes live in this migration
only (not in Member.Meta), so the model's state is unchanged; they are built concurrently, so members stay
writable while a large table is indexed.
"""

from django.db import migrations

NAME_INDEXES = {
    "members_member_first_name_prefix_idx": "first_name",
    "members_member_last_name_prefix_idx": "last_name",
}


def create_name_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, column in NAME_INDEXES.items():
        schema_editor.execute(
            f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON members_member (UPPER({column}::text) text_pattern_ops)"
        )


def drop_name_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in NAME_INDEXES:
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY cannot run inside a transaction

    dependencies = [
        ("members", "0006_till_refusals"),
    ]

    operations = [
        migrations.RunPython(create_name_indexes, drop_name_indexes),
    ]
