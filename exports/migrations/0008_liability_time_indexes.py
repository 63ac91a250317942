"""Indexes by time for the liability's closes (exports/reports/liability_figures.py): what changed since a closed
day is found by the time of the coupon events, of the redemptions made or reversed, and of the points entries.

Events, redemptions and points entries are appended in time order, so a BRIN index answers "since then" for next
to nothing on each insert (the till writes an event and a redemption on every redeem); reversals are rare, so a
small partial btree. PostgreSQL only (SQLite's tables are small); built concurrently where it can be, so the
tables stay writable. The report is their only reader, so they live here and not on the models' Meta.
"""

from django.db import migrations

from config.partitioning import is_partitioned

TIME_INDEXES = {
    "coupons_couponevent_at_brin": "coupons_couponevent USING brin (at)",
    "coupons_couponredemption_redeemed_at_brin": "coupons_couponredemption USING brin (redeemed_at)",
    "coupons_couponredemption_reversed_at_idx": "coupons_couponredemption (reversed_at) WHERE is_reversed",
    "members_pointsentry_created_at_brin": "members_pointsentry USING brin (created_at)",
}


def _concurrently(schema_editor, cursor, target: str) -> str:
    # A partitioned table takes no concurrent build (its index is built on each partition), and nothing concurrent
    # runs inside a transaction (a migration run from a test, or with others in one transaction).
    if schema_editor.connection.in_atomic_block or is_partitioned(cursor, target.split()[0]):
        return ""
    return "CONCURRENTLY "


def _each_time_index(schema_editor, statement: str) -> None:
    """`statement` (with `{concurrently}`, `{name}` and `{target}` to fill in) run for each of TIME_INDEXES."""
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        for name, target in TIME_INDEXES.items():
            concurrently = _concurrently(schema_editor, cursor, target)
            cursor.execute(statement.format(concurrently=concurrently, name=name, target=target))


def create_time_indexes(apps, schema_editor):
    _each_time_index(schema_editor, "CREATE INDEX {concurrently}IF NOT EXISTS {name} ON {target}")


def drop_time_indexes(apps, schema_editor):
    _each_time_index(schema_editor, "DROP INDEX {concurrently}IF EXISTS {name}")


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY cannot run inside a transaction

    dependencies = [
        ("exports", "0007_liability_closes"),
        ("coupons", "0017_partitioned_coupons"),
        ("members", "0007_member_name_prefix_indexes"),
    ]

    operations = [
        migrations.RunPython(create_time_indexes, drop_time_indexes),
    ]
