"""Cells a spreadsheet shows, never runs (OWASP "CSV injection").

A spreadsheet opening a CSV treats a cell starting with `=`, `+`, `-`, `@`, a tab or a carriage return
as a formula. Every file the product writes for people to open (export runs, admin exports, upload
reports) prefixes such a cell with `'`, which spreadsheets take as "text" and do not display, unless it
is plainly a number (`-12.50`, `+3`), which stays as it is.
"""

import re

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
PLAIN_NUMBER = re.compile(r"[+-]?[0-9]+(\.[0-9]+)?")
# The same decision in PostgreSQL, for columns written by COPY (exports/streaming.py).
# Comparing the first character's code (ascii()) costs a quarter of comparing it as text (left(…, 1)).
PLAIN_NUMBER_SQL = r"'^[+-]?[0-9]+(\.[0-9]+)?$'"
FORMULA_TRIGGER_CODES_SQL = ", ".join(str(ord(trigger)) for trigger in FORMULA_TRIGGERS)


def spreadsheet_safe(value):
    """The value itself, or a string prefixed with `'` when a spreadsheet would run it as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS) and not PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


def spreadsheet_safe_row(row):
    return [spreadsheet_safe(value) for value in row]


def spreadsheet_safe_sql(expression: str) -> str:
    """A PostgreSQL expression giving the text `expression` made spreadsheet-safe (evaluate it once upstream)."""
    return (
        f"CASE WHEN ascii({expression}) IN ({FORMULA_TRIGGER_CODES_SQL}) AND {expression} !~ {PLAIN_NUMBER_SQL} "
        f"THEN '''' || {expression} ELSE {expression} END"
    )
