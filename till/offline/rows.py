"""Inserting thousands of rows given as plain tuples, in one statement, without a model instance each.

On PostgreSQL `rows_insert` sends the columns as one array parameter each and the rows come out of `unnest` (one
INSERT … SELECT, whatever the count; psycopg adapts each list once); `rows_copy` sends them as one text COPY,
each row one line formatted here, which costs a fraction of adapting the arrays (psycopg walks each list in
Python). The ids are taken from the table's sequence first, in one statement, so the caller knows which id each
row got without relying on the order of RETURNING. Elsewhere (SQLite, the tests' database) the rows go through
`bulk_create`, which returns the ids.
"""

from datetime import datetime

from django.db import connection

# What text COPY reads specially inside a value (https://www.postgresql.org/docs/15/sql-copy.html, "Text Format").
COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def rows_insert(
    model, fields: tuple[str, ...], rows: list[tuple], *, same: dict | None = None, with_ids: bool = False
) -> list[int] | None:
    """Insert `rows` (values in the order of `fields`, attribute names) into `model`'s table, with the values of
    `same` in every row; their ids, in order, when `with_ids`."""
    if not rows:
        return [] if with_ids else None
    same = same or {}
    if connection.vendor != "postgresql":
        made = model.objects.bulk_create([model(**same, **dict(zip(fields, row, strict=True))) for row in rows])
        return [one.pk for one in made] if with_ids else None
    table = model._meta.db_table
    columns = [model._meta.get_field(name) for name in fields]
    values = [list(column) for column in zip(*rows, strict=True)]
    names = [f'"{field.column}"' for field in columns]
    types = [_array_type(field) for field in columns]
    ids = None
    with connection.cursor() as cursor:
        if with_ids:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)", [table, len(rows)]
            )
            ids = [pk for (pk,) in cursor.fetchall()]
            names.insert(0, '"id"')
            types.insert(0, "bigint[]")
            values.insert(0, ids)
        # Binary parameters: psycopg's text arrays quote every element (a regular expression each).
        unnested = ", ".join(f"%b::{kind}" for kind in types)
        constant_fields = [model._meta.get_field(name) for name in same]
        names += [f'"{field.column}"' for field in constant_fields]
        constants = "".join(f", %s::{field.db_type(connection).split('(')[0]}" for field in constant_fields)
        cursor.execute(
            f"INSERT INTO {table} ({', '.join(names)}) SELECT *{constants} FROM unnest({unnested})",
            [*same.values(), *values],  # in the order of the placeholders
        )
    return ids


def _array_type(field) -> str:
    kind = field.db_type(connection)
    if kind.startswith("varchar"):
        return "text[]"
    return kind.split("(")[0].strip() + "[]"


def rows_copy(
    model, fields: tuple[str, ...], rows: list[tuple], *, same: dict | None = None, with_ids: bool = False
) -> list[int] | None:
    """As `rows_insert`, the rows sent to PostgreSQL as one text COPY."""
    if not rows or connection.vendor != "postgresql":
        return rows_insert(model, fields, rows, same=same, with_ids=with_ids)
    same = same or {}
    table = model._meta.db_table
    names = [f'"{model._meta.get_field(name).column}"' for name in (*fields, *same)]
    constants = "".join("\t" + _copy_text(value) for value in same.values())
    text = _copy_text
    ids = None
    with connection.cursor() as cursor:
        if with_ids:
            cursor.execute("SELECT nextval(%s::regclass) FROM generate_series(1, %s)",
                           [_id_sequence(cursor, table), len(rows)])  # fmt: skip
            ids = [pk for (pk,) in cursor.fetchall()]
            names.insert(0, '"id"')
            rows = [(pk, *row) for pk, row in zip(ids, rows, strict=True)]
        lines = ["\t".join([text(value) for value in row]) + constants for row in rows]
        lines.append("")
        with cursor.copy(f"COPY {table} ({', '.join(names)}) FROM STDIN") as copy:
            copy.write("\n".join(lines))
    return ids


_sequences: dict[str, str] = {}


def _id_sequence(cursor, table: str) -> str:
    """The sequence of `table`'s id, looked up once a process (calling the lookup per row costs more than the
    row's id)."""
    if table not in _sequences:
        cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
        (_sequences[table],) = cursor.fetchone()
    return _sequences[table]


def _copy_text(value) -> str:
    if value is None:
        return "\\N"
    if type(value) is str:
        return value.translate(COPY_ESCAPES)
    if type(value) is bool:
        return "t" if value else "f"
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)
