"""The routes a till's request can take (the map is in `coupons.redemption`), and the one switch of a redemption's.

How a request arrives (a JSON body through `config.api.lean`, anything else through DRF) is the HTTP layer's
one switch, `config.api.lean.takes_lean_path`. Everything after the till's one read is decided here: which
redemption route a coupon takes, and which statements write it.
"""

from enum import StrEnum

from django.db import connection

from coupons.models import CouponSeries
from coupons.redemption import statements as till


class Route(StrEnum):
    DRF = "drf"  # a POST whose body is not JSON (form, multipart, text): DRF's full path, 415
    BLOCKED = "blocked"  # the client, the store or the address is at its abuse limit: 429
    VALIDATE = "validate"  # every failing rule, from the till's one read
    UNKNOWN_CODE = "unknown_code"  # no coupon has the code: counted by the unknown-code guard
    REDEEM_SWAP = "redeem_swap"  # once-only on PostgreSQL: compare-and-swap, one statement
    REDEEM_LOCKED = "redeem_locked"  # multi-use or a lost swap on PostgreSQL: locked read, one-statement write
    REDEEM_ORM = "redeem_orm"  # SQLite: locked read, the ORM's writes


def writes_in_one_statement() -> bool:
    """Whether the database runs the data-modifying CTE of `till.redemption_write` (PostgreSQL; SQLite has none)."""
    return connection.vendor == "postgresql"


def redeem_route(*, series: CouponSeries, unlocked_read: bool) -> Route:
    """How a redemption of a coupon of `series` is written.

    `unlocked_read`: the caller holds the coupon as the till's one statement read it, without a lock, and
    has not lost a swap on it yet. Only a once-only coupon can be swapped: a multi-use coupon's per-member
    counts come from redemption rows that only holders of its row lock write.
    """
    if not writes_in_one_statement():
        return Route.REDEEM_ORM
    if unlocked_read and not series.multi_use:
        return Route.REDEEM_SWAP
    return Route.REDEEM_LOCKED


REDEMPTION_WRITES = {
    Route.REDEEM_SWAP: till.redemption_write,
    Route.REDEEM_LOCKED: till.redemption_write,
    Route.REDEEM_ORM: till.redemption_write_orm,
}
