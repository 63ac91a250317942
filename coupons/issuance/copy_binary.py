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
# The columns of a coupon event and of a thin outbox event the payloads below fill, in this order.
EVENT_COLUMNS = "coupon_id, old_status, new_status, actor, channel, reason, at"
OUTBOX_COLUMNS = "type, object_type, object_id, data, created_at"


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
    return SIGNATURE + _rows_payload(columns, len(codes)) + TRAILER


def coupon_events_payload(*, coupon_ids: np.ndarray, event) -> bytes:
    """COPY … (FORMAT BINARY) of one copy of `event` (an unsaved CouponEvent) per coupon of `coupon_ids`, in
    EVENT_COLUMNS order: the first event of coupons a chunk has just written, without reading them again."""
    columns = [("coupon", ">i8", coupon_ids)]
    columns.extend(
        (name, *_text(getattr(event, name))) for name in ("old_status", "new_status", "actor", "channel", "reason")
    )
    columns.append(("at", ">i8", _timestamp(event.at)))
    return SIGNATURE + _rows_payload(columns, len(coupon_ids)) + TRAILER


def thin_events_payload(*, type: str, object_type: str, object_ids: np.ndarray, created_at: datetime) -> bytes:
    """COPY … (FORMAT BINARY) of one thin outbox event (no data) per id of `object_ids`, in OUTBOX_COLUMNS order.

    The object id is text whose length varies with its digits: one block of rows per length, in id order (ids
    of more digits are larger), so the events keep the order of their objects."""
    digits = object_ids.astype("S20")
    lengths = np.char.str_len(digits)
    blocks = []
    for length in np.unique(lengths):
        ids = digits[lengths == length].astype(f"S{length}")
        columns = [
            ("type", *_text(type)),
            ("object_type", *_text(object_type)),
            ("object_id", f"S{length}", ids),
            ("data", ">i8", None),
            ("created", ">i8", _timestamp(created_at)),
        ]
        blocks.append(_rows_payload(columns, len(ids)))
    return SIGNATURE + b"".join(blocks) + TRAILER


def _text(value: str) -> tuple[str, bytes]:
    """A text value the same for every row: its wire type and bytes (UTF-8, no terminator)."""
    encoded = value.encode()
    return f"S{len(encoded)}", encoded


def _rows_payload(columns, count: int) -> bytes:
    """`count` rows of (name, wire type, value) columns: a value is one for every row, an array of one per row,
    or None for NULL. An empty text is its length (0) alone."""
    fields, values = [("count", ">i2")], {"count": len(columns)}
    for name, wire_type, value in columns:
        fields.append((f"{name}_len", ">i4"))
        values[f"{name}_len"] = NULL if value is None else np.dtype(wire_type).itemsize
        if value is not None and np.dtype(wire_type).itemsize:
            fields.append((name, wire_type))
            values[name] = value
    rows = np.empty(count, dtype=np.dtype(fields))
    for name, value in values.items():
        rows[name] = value
    return rows.tobytes()
