"""Rebuilding a big table as hash partitions of itself, and back (PostgreSQL only; docs/scaling.md, Partitioning).

A table is rebuilt under its own name: the old one is renamed aside, the new one is made LIKE it (columns,
defaults, identity, check constraints), the rows move across in id batches, the old table's indexes,
unique constraints, foreign keys and triggers (the append-only ones pgtrigger installed, with their comment)
are made again from the catalog's own definitions, the identity sequence goes on after the highest id, and
the old table is dropped. A partitioned table's primary key and unique indexes must hold its partition key,
so the primary key becomes (id, key); the unique indexes of these tables already hold it.

Foreign keys from other tables cannot point at (id) of a partitioned table: `referenced_by` names them,
and they are dropped on the way in and made again (with Django's names) on the way out.

Partitioning is an operator's choice (`PARTITION_LARGE_TABLES`, off by default): on PostgreSQL 15 every till
statement on a partitioned table pays for its partitions (a generic plan locks all of them before pruning; a custom
plan plans them), about twice the database CPU of a redeem or a validate on plain tables (bench/RESULTS.md). A
program that needs it (about 100M coupons, docs/scaling.md) sets it before migrating, or converts a live database
with `manage.py partition_tables` (and back with `--undo`).
"""

from dataclasses import dataclass

PARTITIONS = 16
BATCH_ROWS = 100_000


@dataclass(frozen=True)
class Reference:
    """A foreign key from another model's field to the rebuilt table's id."""

    app_label: str
    model_name: str
    field_name: str


def _fetch(cursor, sql, params=()):
    cursor.execute(sql, params)
    return cursor.fetchall()


def _definitions(cursor, table: str) -> list[str]:
    """The statements that give `table` back its indexes, constraints and triggers, primary key aside."""
    statements = [
        definition
        for (definition,) in _fetch(
            cursor,
            """SELECT pg_get_indexdef(i.indexrelid) FROM pg_index i
            WHERE i.indrelid = %s::regclass AND NOT i.indisprimary
              AND NOT EXISTS (SELECT FROM pg_constraint c WHERE c.conindid = i.indexrelid)
            ORDER BY i.indexrelid""",
            [table],
        )
    ]
    statements += [
        f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}'
        for name, definition in _fetch(
            cursor,
            """SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint
            WHERE conrelid = %s::regclass AND contype IN ('u', 'f') AND conparentid = 0 ORDER BY oid""",
            [table],
        )
    ]
    for name, definition, comment in _fetch(
        cursor,
        """SELECT tgname, pg_get_triggerdef(oid), obj_description(oid, 'pg_trigger') FROM pg_trigger
        WHERE tgrelid = %s::regclass AND NOT tgisinternal AND tgparentid = 0 ORDER BY oid""",
        [table],
    ):
        statements.append(definition)
        if comment is not None:
            statements.append(f"COMMENT ON TRIGGER {name} ON {table} IS '{comment}'")
    return statements


def _rebuild(schema_editor, *, table: str, partition_key: str | None) -> None:
    old = f"{table}_before_rebuild"
    with schema_editor.connection.cursor() as cursor:
        # Deferred foreign-key checks of rows written earlier in this transaction must not be left pending
        # on a table about to be renamed and dropped.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        definitions = _definitions(cursor, table)
        cursor.execute(f"ALTER TABLE {table} RENAME TO {old}")
        layout = f" PARTITION BY HASH ({partition_key})" if partition_key else ""
        cursor.execute(
            f"CREATE TABLE {table} (LIKE {old} INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING IDENTITY"
            f" INCLUDING STORAGE){layout}"
        )
        if partition_key:
            for remainder in range(PARTITIONS):
                cursor.execute(
                    f"CREATE TABLE {table}_p{remainder:02d} PARTITION OF {table}"
                    f" FOR VALUES WITH (MODULUS {PARTITIONS}, REMAINDER {remainder})"
                )
        (highest,) = _fetch(cursor, f"SELECT coalesce(max(id), 0) FROM {old}")[0]
        for start in range(0, highest + 1, BATCH_ROWS):
            cursor.execute(
                f"INSERT INTO {table} SELECT * FROM {old} WHERE id >= %s AND id < %s", [start, start + BATCH_ROWS]
            )
        cursor.execute(f"DROP TABLE {old} CASCADE")
        primary_key = f"id, {partition_key}" if partition_key else "id"
        cursor.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{table}_pkey" PRIMARY KEY ({primary_key})')
        for statement in definitions:
            cursor.execute(statement)
        if partition_key:
            _name_partition_indexes(cursor, table)
        _name_the_table_in_refusals(cursor, table, partitioned=bool(partition_key))
        cursor.execute("SELECT setval(pg_get_serial_sequence(%s, 'id'), %s, %s)", [table, max(highest, 1), highest > 0])
        cursor.execute(f"ANALYZE {table}")


def _name_partition_indexes(cursor, table: str) -> None:
    """Name each partition's index after the table's (`coupons_coupon_code_unique_p03`), so a plan says which
    index a partition's scan uses."""
    for child, parent, partition in _fetch(
        cursor,
        """SELECT child.relname, parent.relname, partition.relname FROM pg_index parent_index
        JOIN pg_class parent ON parent.oid = parent_index.indexrelid
        JOIN pg_inherits inheritance ON inheritance.inhparent = parent.oid
        JOIN pg_class child ON child.oid = inheritance.inhrelid
        JOIN pg_index child_index ON child_index.indexrelid = child.oid
        JOIN pg_class partition ON partition.oid = child_index.indrelid
        WHERE parent_index.indrelid = %s::regclass AND NOT parent_index.indisprimary""",
        [table],
    ):
        suffix = partition.removeprefix(table)
        cursor.execute(f'ALTER INDEX "{child}" RENAME TO "{parent[: 63 - len(suffix)]}{suffix}"')


# A row trigger on a partitioned table runs on the partition, whose name TG_TABLE_NAME then is; the refusal
# should name the table people know. (A later reinstall by pgtrigger puts the partition's name back.)
_TABLE_NAME = "TG_TABLE_NAME"
_PARENT_NAME = "coalesce((SELECT inhparent::regclass::text FROM pg_inherits WHERE inhrelid = TG_RELID), TG_TABLE_NAME)"


def _name_the_table_in_refusals(cursor, table: str, *, partitioned: bool) -> None:
    before, after = (_TABLE_NAME, _PARENT_NAME) if partitioned else (_PARENT_NAME, _TABLE_NAME)
    for (definition,) in _fetch(
        cursor,
        """SELECT DISTINCT pg_get_functiondef(tgfoid) FROM pg_trigger
        WHERE tgrelid = %s::regclass AND NOT tgisinternal AND tgparentid = 0 AND tgname LIKE 'pgtrigger_%%'""",
        [table],
    ):
        if partitioned and _PARENT_NAME in definition:
            continue
        if before in definition:
            cursor.execute(definition.replace(before, after))


def _fields(apps, references):
    for reference in references:
        model = apps.get_model(reference.app_label, reference.model_name)
        yield model, model._meta.get_field(reference.field_name)


def partition(apps, schema_editor, *, table: str, key: str, referenced_by: tuple[Reference, ...] = ()) -> None:
    """Make `table` hash-partitioned on `key` in PARTITIONS partitions (PostgreSQL; elsewhere nothing changes)."""
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        if is_partitioned(cursor, table):
            return
    for model, field in _fields(apps, referenced_by):
        for name in schema_editor._constraint_names(model, [field.column], foreign_key=True):
            schema_editor.execute(schema_editor._delete_fk_sql(model, name))
    _rebuild(schema_editor, table=table, partition_key=key)


def unpartition(apps, schema_editor, *, table: str, referenced_by: tuple[Reference, ...] = ()) -> None:
    """Make `table` one plain table again, with the foreign keys that point at it."""
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        if not is_partitioned(cursor, table):
            return
    _rebuild(schema_editor, table=table, partition_key=None)
    for model, field in _fields(apps, referenced_by):
        if not field.db_constraint:  # a reference that is no database foreign key on any layout
            continue
        schema_editor.execute(schema_editor._create_fk_sql(model, field, "_fk_%(to_table)s_%(to_column)s"))


def is_partitioned(cursor, table: str) -> bool:
    return bool(_fetch(cursor, "SELECT 1 FROM pg_partitioned_table WHERE partrelid = %s::regclass", [table]))


def partitions_of(cursor, table: str) -> list[str]:
    return [
        name
        for (name,) in _fetch(
            cursor,
            "SELECT inhrelid::regclass::text FROM pg_inherits WHERE inhparent = %s::regclass ORDER BY 1",
            [table],
        )
    ]


# The tables that grow with the program: (table, partition key, the foreign keys that point at its id).
LARGE_TABLES = (
    (
        "coupons_coupon",
        "code",
        (Reference("coupons", "couponredemption", "coupon"), Reference("coupons", "couponresend", "coupon")),
    ),
    ("coupons_couponevent", "coupon_id", ()),
    ("coupons_couponredemption", "coupon_id", ()),
    ("offers_offerresponse", "member_id", (Reference("offers", "offerresponseevent", "response"),)),
)


def large_tables_partition(apps, schema_editor, *, tables=None) -> list[str]:
    """Partition the large tables (or those named) that are not yet; returns the ones converted."""
    if schema_editor.connection.vendor != "postgresql":
        return []
    converted = []
    for table, key, referenced_by in LARGE_TABLES:
        if tables is None or table in tables:
            with schema_editor.connection.cursor() as cursor:
                if is_partitioned(cursor, table):
                    continue
            partition(apps, schema_editor, table=table, key=key, referenced_by=referenced_by)
            converted.append(table)
    return converted


def large_tables_unpartition(apps, schema_editor, *, tables=None) -> list[str]:
    if schema_editor.connection.vendor != "postgresql":
        return []
    converted = []
    for table, _key, referenced_by in reversed(LARGE_TABLES):
        if tables is None or table in tables:
            with schema_editor.connection.cursor() as cursor:
                if not is_partitioned(cursor, table):
                    continue
            unpartition(apps, schema_editor, table=table, referenced_by=referenced_by)
            converted.append(table)
    return converted
