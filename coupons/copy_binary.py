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
    width = codes.dtype.itemsize
    status_bytes = status.encode()
    fields = [("count", ">i2")]
    values = {"count": 11}

    def add(name, dtype, value, size):
        fields.append((f"{name}_len", ">i4"))
        if value is None:
            values[f"{name}_len"] = NULL
            return
        values[f"{name}_len"] = size
        fields.append((name, dtype))
        values[name] = value

    add("series", ">i8", series_id, 8)
    add("code", f"S{width}", b"", width)  # per row, below
    add("common", "u1", int(is_common), 1)
    add("member", ">i8", 0, 8)  # per row, below
    add("status", f"S{len(status_bytes)}", status_bytes, len(status_bytes))
    add("issued", ">i8", _timestamp(issued_at), 8)
    add("expires", ">i8", None if expires_at is None else _timestamp(expires_at), 8)
    add("redeemable", ">i8", None if redeemable_from is None else _timestamp(redeemable_from), 8)
    add("reversed", "u1", 0, 1)
    add("changed", ">i8", _timestamp(issued_at), 8)
    add("created", ">i8", _timestamp(issued_at), 8)

    rows = np.empty(len(codes), dtype=np.dtype(fields))
    for name, value in values.items():
        if name not in ("code", "member"):
            rows[name] = value
    rows["code"] = codes
    rows["member"] = member_ids
    return SIGNATURE + rows.tobytes() + TRAILER
