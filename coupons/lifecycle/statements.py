"""A coupon status move as SQL: the one UPDATE every writer runs or embeds, and its events' INSERT.

`coupons.lifecycle.status` runs the UPDATE itself (the set-based writer) and hands both, as the CTEs of
one statement, to the till's redemption and the expiry sweep. Each move is checked against the
transition table when its SQL is made, so no statement can move a coupon the table does not allow.
"""

from functools import cache

from django.db import connection

from coupons.lifecycle.transitions import transition_check
from coupons.models import Coupon, CouponEvent

COUPON_TABLE = Coupon._meta.db_table
EVENT_TABLE = CouponEvent._meta.db_table
EVENT_COUPON_COLUMN = CouponEvent._meta.get_field("coupon").column
# Columns a move must never set beside the status: the move writes these itself.
MOVE_COLUMNS = ("status", "last_status_change_on")


def coupon_move_sql(*, old: str, to: str, at, where: str, where_params=(), also_set=None) -> tuple[str, list]:
    """`UPDATE coupon SET status = to, last_status_change_on = at … WHERE (where) AND status = old RETURNING id`.

    `where` picks the rows (its `%s` take `where_params`); the `status = old` condition makes the move a
    compare-and-swap, so a row another writer moved meanwhile is left alone and not returned.
    `also_set`: other columns the move sets (`{"is_reversed": False}`).
    """
    transition_check(old, to)
    also_set = also_set or {}
    if set(also_set) & set(MOVE_COLUMNS):
        raise ValueError("A move sets the status and its time itself.")
    sql = _update_sql(where, tuple(also_set))
    return sql, [to, connection.ops.adapt_datetimefield_value(at), *also_set.values(), *where_params, old]


@cache
def _update_sql(where: str, also_set: tuple[str, ...]) -> str:
    columns = [Coupon._meta.get_field(name).column for name in also_set]
    assignments = "".join(f", {column} = %s" for column in columns)
    return (
        f"UPDATE {COUPON_TABLE} SET status = %s, last_status_change_on = %s{assignments}\n"
        f"           WHERE {where} AND status = %s RETURNING id"
    )


def events_insert_sql(event: CouponEvent, *, moved: str) -> tuple[str, list]:
    """An INSERT of one event per row the CTE `moved` returned, each a copy of `event` for that coupon."""
    return _events_insert_sql(moved), [getattr(event, field.attname) for field in _event_fields()]


@cache
def _events_insert_sql(moved: str) -> str:
    fields = _event_fields()
    columns = ", ".join(field.column for field in fields)
    # Typed placeholders: a SELECT list, unlike VALUES, does not take its types from the target columns.
    values = ", ".join(f"%s::{field.db_type(connection).split('(')[0]}" for field in fields)
    return f"INSERT INTO {EVENT_TABLE} ({EVENT_COUPON_COLUMN}, {columns}) SELECT id, {values} FROM {moved}"


@cache
def _event_fields():
    # Every concrete column but the key and the coupon (the moved row's id), in the model's order.
    return [field for field in CouponEvent._meta.concrete_fields if not field.primary_key and field.name != "coupon"]
