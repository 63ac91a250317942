from django.apps import apps
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from config.partitioning import LARGE_TABLES, large_tables_partition, large_tables_unpartition


class Command(BaseCommand):
    help = (
        "Hash-partition the largest tables on PostgreSQL (coupons, coupon events and redemptions, offer responses), "
        "or make them plain tables again with --undo. Each table is locked while it is copied: run it in a quiet "
        "hour (docs/scaling.md, Partitioning)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--undo", action="store_true", help="make the partitioned tables plain tables again")
        parser.add_argument("--table", action="append", choices=[table for table, _, _ in LARGE_TABLES],
                            help="only this table (repeatable); default: all of them")  # fmt: skip

    def handle(self, *args, undo=False, table=None, **options):
        if connection.vendor != "postgresql":
            raise CommandError("Partitioning is PostgreSQL's; this database keeps plain tables.")
        convert = large_tables_unpartition if undo else large_tables_partition
        with connection.schema_editor() as schema_editor:
            converted = convert(apps, schema_editor, tables=table)
        state = "plain" if undo else "partitioned"
        if converted:
            self.stdout.write(f"Now {state}: {', '.join(converted)}.")
        else:
            self.stdout.write(f"Nothing to do: the tables were already {state}.")
