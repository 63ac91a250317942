"""The series issuance lock, a PostgreSQL advisory lock held until the transaction ends.

Bulk issuance chunks of one series run side by side, so they share it; issuing to one member takes it
alone. A member's eligibility is thus never decided by a single issue while a bulk chunk that may give
the same member a coupon is still uncommitted, and the other way round. Take it before locking the
series row, never after, so the two kinds of writer queue in one order.
"""

from django.db import connection

# The high half of the 64-bit key names the lock family; the low half is the series id.
_NAMESPACE = 0x434F5550 << 32


def series_issuance_lock(series_id: int, *, shared: bool = False) -> None:
    if connection.vendor != "postgresql":
        return  # SQLite runs one writing transaction at a time
    function = "pg_advisory_xact_lock_shared" if shared else "pg_advisory_xact_lock"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {function}(%s)", [_NAMESPACE | series_id])
