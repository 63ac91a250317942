"""What the partitioning tests share: moving the schema between migrations and reading query plans."""

import json

from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from psycopg import ClientCursor


def migrate_to(target: tuple[str, str]) -> None:
    MigrationExecutor(connection).migrate([target])


def partition_holding(table: str, *, id: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT tableoid::regclass::text FROM {table} WHERE id = %s", [id])
        return cursor.fetchone()[0]


def with_values(sql: str, params) -> str:
    """The statement with its values in place, as a custom plan sees them (EXPLAIN takes no untyped parameters)."""
    return ClientCursor(connection.connection).mogrify(sql, params)


def plan_of(sql: str, params=()) -> dict:
    """The EXPLAIN (FORMAT JSON) plan of `sql`, planned as for a full table."""
    with connection.cursor() as cursor:
        # A test's tables are a few pages, which a sequential scan reads faster.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN (FORMAT JSON) " + (with_values(sql, params) if params else sql))
        (plan,) = cursor.fetchone()
    return (json.loads(plan) if isinstance(plan, str) else plan)[0]["Plan"]


def scans(plan: dict):
    """Every node of a plan that reads a relation."""
    if "Relation Name" in plan:
        yield plan
    for child in plan.get("Plans", ()):
        yield from scans(child)
