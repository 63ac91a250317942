"""PostgreSQL's binary COPY format for a chunk of newly issued coupons, built with numpy.

Bulk issuance is bound by the server's COPY. In text format the server parses every value of every
row (five timestamps a coupon); in binary format it takes them as they come, and numpy lays out all
the rows of a chunk at once instead of formatting a line per coupon in Python. Within a chunk every
column but the code and the member is the same, and every code has the same length, so each row has
one fixed layout: a numpy structured array of big-endian fields is the payload.

https://www.postgresql.org/docs/current/sql-copy.html#id-1.9.3.55.9.4 (binary format)
"""

from datetime import UTC, datetime, timedelta

import numpy as np

SIGNATURE = b"PGCOPY\n\xff\r\n\x00" + b"\x00\x00\x00\x00" + b"\x00\x00\x00\x00"
TRAILER = b"\xff\xff"
NULL = -1
POSTGRES_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)

# The coupon columns the payload fills, in this order.
COLUMNS = (
    "series_id, code, is_common, member_id, status, issued_at, expires_at, redeemable_from, is_reversed, "
    "last_status_change_on, created_at"
)


def _timestamp(value: datetime) -> int:
    """timestamptz on the wire: microseconds since 2000-01-01 UTC."""
    return (value - POSTGRES_EPOCH) // timedelta(microseconds=1)


def issued_coupons_payload(
    *,
    series_id: int,
    codes: np.ndarray,
    member_ids: np.ndarray,
    is_common: bool,
    status: str,
    issued_at: datetime,
    expires_at: datetime | None,
    redeemable_from: datetime | None,
) -> bytes:
    """The whole COPY … (FORMAT BINARY) stream for one row per (code, member): signature, rows, trailer.

    `codes` is a numpy bytes array (dtype S<n>, ASCII, all of one length), `member_ids` integers.
    """
    issued = _timestamp(issued_at)
    status_bytes = status.encode()
    # (name, wire type, value): a value is one for every row, an array of one per row, or None for NULL.
    columns = [
        ("series", ">i8", series_id),
        ("code", f"S{codes.dtype.itemsize}", codes),
        ("common", "u1", int(is_common)),
        ("member", ">i8", member_ids),
        ("status", f"S{len(status_bytes)}", status_bytes),
        ("issued", ">i8", issued),
        ("expires", ">i8", None if expires_at is None else _timestamp(expires_at)),
        ("redeemable", ">i8", None if redeemable_from is None else _timestamp(redeemable_from)),
        ("reversed", "u1", 0),
        ("changed", ">i8", issued),
        ("created", ">i8", issued),
    ]
    fields, values = [("count", ">i2")], {"count": len(columns)}
    for name, wire_type, value in columns:
        fields.append((f"{name}_len", ">i4"))
        values[f"{name}_len"] = NULL if value is None else np.dtype(wire_type).itemsize
        if value is not None:
            fields.append((name, wire_type))
            values[name] = value
    rows = np.empty(len(codes), dtype=np.dtype(fields))
    for name, value in values.items():
        rows[name] = value
    return SIGNATURE + rows.tobytes() + TRAILER
