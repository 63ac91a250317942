"""Inserting thousands of rows given as plain tuples, in one statement, without a model instance each.

On PostgreSQL the columns travel as one array parameter each and the rows come out of `unnest` (one
INSERT … SELECT, whatever the count; psycopg adapts each list once). The ids are taken from the table's
sequence first, in one statement, so the caller knows which id each row got without relying on the order of
RETURNING. Elsewhere (SQLite, the tests' database) the rows go through `bulk_create`, which returns the ids.
"""

from django.db import connection


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
