"""Write a dataset's rows to a CSV file without holding them in memory.

PostgreSQL: `COPY (SELECT …) TO STDOUT WITH (FORMAT csv, HEADER)` through psycopg 3, written to the
file in chunks as the server sends them. Other databases (SQLite): a chunked cursor and `csv.writer`.
Either way memory stays flat whatever the row count, and text cells a spreadsheet would run as a formula
are prefixed with `'` (config/spreadsheet.py): in the SQL on PostgreSQL, so COPY stays the fast path.
Every date and time is written in ISO 8601 with its offset, in UTC (`2026-12-03T09:14:05.000000+00:00`), so a
reader never has to guess the zone: in the SQL on PostgreSQL, and on SQLite (which stores them as text with
no zone) for each column that selects a model's DateTimeField.
"""

import csv
import io
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from django.apps import apps
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connection, connections, models
from django.utils.dateparse import parse_datetime

from config.spreadsheet import spreadsheet_safe_row, spreadsheet_safe_sql
from exports.datasets import Dataset

# PostgreSQL's character types (name, text, char, varchar): the columns whose cells may hold a formula.
TEXT_TYPE_OIDS = frozenset({19, 25, 1042, 1043})
TIMESTAMPTZ_TYPE_OID = 1184
# The same text PostgreSQL's to_char writes: microseconds always, the offset of UTC.
ISO_SQL_FORMAT = 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"'
# A table and its alias in a dataset's FROM clause: "coupons_coupon c", "JOIN members_member AS m".
SOURCE_TABLE = re.compile(r"(?:^|\bJOIN\s+)(\w+)\s+(?:AS\s+)?(?!ON\b|JOIN\b|LEFT\b)(\w+)", re.IGNORECASE)
COLUMN_REFERENCE = re.compile(r"(\w+)\.(\w+)")


@dataclass(frozen=True)
class Query:
    sql: str
    params: list


def _where(dataset: Dataset, filters: dict) -> tuple[str, list]:
    conditions, params = [], []
    if dataset.where:
        conditions.append(f"({dataset.where})")
    for name in sorted(filters):
        item = dataset.filter(name)
        conditions.append(f"({item.condition})")
        params.extend(_adapt(value) for value in item.parse(filters[name]))
    return (" WHERE " + " AND ".join(conditions)) if conditions else "", params


def _adapt(value):
    from datetime import datetime

    if isinstance(value, datetime):
        return connection.ops.adapt_datetimefield_value(value)
    return value


def select_query(dataset: Dataset, columns: list[str], filters: dict) -> Query:
    vendor = connection.vendor
    select_list = ", ".join(
        f"{dataset.column(name).sql(vendor)} AS {connection.ops.quote_name(name)}" for name in columns
    )
    where, params = _where(dataset, filters)
    return Query(f"SELECT {select_list} FROM {dataset.source}{where} ORDER BY {dataset.order_by}", params)


def column_types(query: Query, *, using: str = DEFAULT_DB_ALIAS) -> dict[str, int]:
    """The query's column types, as PostgreSQL describes them (it plans, returns no rows)."""
    with connections[using].cursor() as cursor:
        cursor.execute(f"SELECT * FROM ({query.sql}) AS described LIMIT 0", query.params)
        return {column.name: column.type_code for column in cursor.description}


def text_columns(query: Query, *, using: str = DEFAULT_DB_ALIAS) -> set[str]:
    return {name for name, oid in column_types(query, using=using).items() if oid in TEXT_TYPE_OIDS}


def spreadsheet_safe_query(query: Query, columns: list[str], *, using: str = DEFAULT_DB_ALIAS) -> Query:
    """The same rows with every text column made spreadsheet-safe and every timestamp written in ISO 8601 with its
    offset, in SQL (PostgreSQL).

    `OFFSET 0` keeps the inner query a subquery of its own, so each column expression (some are
    subqueries) is evaluated once per row, not once per mention in the CASE that neutralises it.
    """
    types = column_types(query, using=using)
    if not any(oid in TEXT_TYPE_OIDS or oid == TIMESTAMPTZ_TYPE_OID for oid in types.values()):
        return query
    quote = connection.ops.quote_name

    def cell(name):
        if types.get(name) in TEXT_TYPE_OIDS:
            return f"{spreadsheet_safe_sql(f'q.{quote(name)}')} AS {quote(name)}"
        if types.get(name) == TIMESTAMPTZ_TYPE_OID:
            return f"to_char(q.{quote(name)} AT TIME ZONE 'UTC', '{ISO_SQL_FORMAT}') AS {quote(name)}"
        return f"q.{quote(name)}"

    outer = ", ".join(cell(name) for name in columns)
    return Query(f"SELECT {outer} FROM ({query.sql} OFFSET 0) AS q", query.params)


def datetime_columns(dataset: Dataset, columns: list[str], vendor: str) -> set[str]:
    """The chosen columns that select a model's DateTimeField as it is (`c.issued_at`), by the dataset's FROM clause."""
    tables = {alias: table for table, alias in SOURCE_TABLE.findall(dataset.source)}
    stored = {
        (model._meta.db_table, field.column)
        for model in apps.get_models()
        for field in model._meta.concrete_fields
        if isinstance(field, models.DateTimeField)
    }
    found = set()
    for name in columns:
        reference = COLUMN_REFERENCE.fullmatch(dataset.column(name).sql(vendor).strip())
        if reference and (tables.get(reference[1]), reference[2]) in stored:
            found.add(name)
    return found


def iso_datetime(value):
    """A stored date and time (a datetime, or SQLite's text for one, in UTC) as ISO 8601 with its offset, in UTC."""
    if isinstance(value, str):
        value = parse_datetime(value)
        if value is None:
            return value
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def count_query(dataset: Dataset, filters: dict) -> Query:
    where, params = _where(dataset, filters)
    return Query(f"SELECT count(*) FROM {dataset.source}{where}", params)


def count_rows(dataset: Dataset, filters: dict, *, using: str = DEFAULT_DB_ALIAS) -> int:
    query = count_query(dataset, filters)
    with connections[using].cursor() as cursor:
        cursor.execute(query.sql, query.params)
        return cursor.fetchone()[0]


class CsvRecordCounter:
    """Counts CSV records in a byte stream: newlines outside quoted fields (which may hold newlines).

    Quotes inside fields are doubled, so the quote parity tells whether a newline ends a record.
    """

    def __init__(self):
        self.records = 0
        self.in_quotes = False

    def feed(self, data) -> None:
        if b'"' not in data:
            if not self.in_quotes:
                self.records += data.count(b"\n")
            return
        for index, part in enumerate(data.split(b'"')):
            if index:
                self.in_quotes = not self.in_quotes
            if not self.in_quotes:
                self.records += part.count(b"\n")


ProgressCallback = Callable[[int], None]


def _chunk_rows() -> int:
    return max(1, int(getattr(settings, "EXPORTS_CHUNK_ROWS", 10_000)))


def _pause_after_chunk() -> None:
    # Tests set this to make an export slow enough to kill its worker half-way; zero in production.
    pause = float(getattr(settings, "EXPORTS_PAUSE_PER_CHUNK", 0) or 0)
    if pause:
        time.sleep(pause)


def write_csv(
    *,
    dataset: Dataset,
    columns: list[str],
    filters: dict,
    out,
    on_progress: ProgressCallback,
    method: str = "auto",
    using: str = DEFAULT_DB_ALIAS,
) -> int:
    """Write the header and every row to the binary file `out`, read from the `using` database (the replica, for
    an export run); returns the number of data rows."""
    query = select_query(dataset, columns, filters)
    if method == "auto":
        method = "copy" if connection.vendor == "postgresql" else "cursor"
    if method == "copy":
        return _write_with_copy(spreadsheet_safe_query(query, columns, using=using), out, on_progress, using=using)
    stamped = datetime_columns(dataset, columns, connection.vendor)
    return _write_with_cursor(
        query, columns, out, on_progress, using=using, datetime_indexes={columns.index(name) for name in stamped}
    )


def _write_with_copy(query: Query, out, on_progress: ProgressCallback, *, using: str = DEFAULT_DB_ALIAS) -> int:
    from psycopg import sql

    statement = sql.SQL("COPY ({}) TO STDOUT WITH (FORMAT csv, HEADER true)").format(sql.SQL(query.sql))
    chunk_rows = _chunk_rows()
    counter = CsvRecordCounter()
    buffer = bytearray()
    pending = 0
    # A connection of its own (to the `using` database: the replica, for an export run): psycopg holds a
    # connection's lock for the whole COPY, and progress updates go through Django's connection meanwhile.
    # Called inside a transaction (tests, a caller's atomic block), the COPY must see that
    # transaction's rows, so it shares the connection and reports progress once, at the end.
    source = connections[using]
    shared = source.in_atomic_block
    if shared:
        source.ensure_connection()
        copy_connection, report = source.connection, (lambda done: None)
    else:
        copy_connection, report = source.get_new_connection(source.get_connection_params()), on_progress
    try:
        if not shared:
            copy_connection.autocommit = True
        with copy_connection.cursor() as cursor:
            if not shared:
                cursor.execute(sql.SQL("SET TIME ZONE {}").format(sql.Literal(source.timezone_name)))
            with cursor.copy(statement, query.params or None) as copy:
                for data in copy:  # one CopyData message (a row, as PostgreSQL sends them) at a time
                    buffer += data
                    pending += 1
                    if pending >= chunk_rows:
                        _flush(buffer, counter, out, report)
                        pending = 0
        _flush(buffer, counter, out, on_progress, last=True)
    finally:
        if not shared:
            copy_connection.close()
    return max(counter.records - 1, 0)  # less the header


def _flush(buffer: bytearray, counter: CsvRecordCounter, out, on_progress: ProgressCallback, last=False) -> None:
    counter.feed(buffer)
    out.write(buffer)
    buffer.clear()
    on_progress(max(counter.records - 1, 0))
    if not last:
        _pause_after_chunk()


def _iso_datetimes(row, datetime_indexes: set[int]):
    return [
        iso_datetime(value) if value is not None and (isinstance(value, datetime) or index in datetime_indexes)
        else value
        for index, value in enumerate(row)
    ]  # fmt: skip


def _write_with_cursor(
    query: Query,
    columns: list[str],
    out,
    on_progress: ProgressCallback,
    *,
    using: str = DEFAULT_DB_ALIAS,
    datetime_indexes: set[int] = frozenset(),
) -> int:
    chunk_rows = _chunk_rows()
    text = io.TextIOWrapper(out, encoding="utf-8", newline="", write_through=True)
    writer = csv.writer(text, lineterminator="\n")
    # csv.writer quotes a field holding a carriage return only when the line terminator has one, and an
    # unquoted CR ends the record early in readers: a row with one is written with every field quoted.
    quoting_writer = csv.writer(text, lineterminator="\n", quoting=csv.QUOTE_ALL)
    writer.writerow(columns)
    rows = 0
    # chunked_cursor(): a server-side (named) cursor on PostgreSQL, a plain one elsewhere.
    with connections[using].chunked_cursor() as cursor:
        cursor.execute(query.sql, query.params)
        while batch := cursor.fetchmany(chunk_rows):
            for row in batch:
                row = spreadsheet_safe_row(_iso_datetimes(row, datetime_indexes))
                has_carriage_return = any(isinstance(value, str) and "\r" in value for value in row)
                (quoting_writer if has_carriage_return else writer).writerow(row)
            rows += len(batch)
            on_progress(rows)
            if len(batch) == chunk_rows:
                _pause_after_chunk()
    text.flush()
    text.detach()  # leave `out` open for the caller
    return rows
