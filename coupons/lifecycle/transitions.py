"""Every allowed status move of a coupon."""

from coupons.exceptions import CouponTransitionError
from coupons.models import Coupon

Status = Coupon.Status


# Every allowed status move of a coupon. Only the writers in `coupons.lifecycle.status` (one row, set-based)
# and the SQL they hand to the till's redemption and the expiry sweep (`coupons.lifecycle.statements`)
# change a status, and each checks its move here first.
TRANSITIONS: dict[str, set[str]] = {
    Status.UNISSUED: {Status.ISSUED, Status.REVOKED, Status.EXPIRED},
    Status.ISSUED: {Status.REDEEMED, Status.EXPIRED, Status.REVOKED},
    Status.REDEEMED: {Status.ISSUED},  # a reversed redemption reinstates the coupon
    Status.EXPIRED: set(),
    Status.REVOKED: set(),
}

# Seed 003's one way out of revoked: a codes upload naming another member issues the revoked code to them.
# Only that path asks for it (`reissue=True`); to every other writer revoked stays final.
REISSUE_TRANSITIONS: dict[str, set[str]] = {Status.REVOKED: {Status.ISSUED}}

# A coupon row is created in one of these (an uploaded code unissued, every other coupon issued). Creation
# is not a transition: an issued coupon's event has no old status.
INITIAL_STATUSES = frozenset({Status.UNISSUED, Status.ISSUED})


def allowed_moves(old: str, *, reissue: bool = False) -> set[str]:
    """The statuses a coupon in `old` may move to (`reissue`: through a codes upload to another member)."""
    moves = TRANSITIONS.get(old, set())
    if reissue:
        moves = moves | REISSUE_TRANSITIONS.get(old, set())
    return moves


def transition_check(old: str, to: str, *, reissue: bool = False) -> None:
    """Raise unless the transition table allows a coupon to move from `old` to `to`."""
    if to not in allowed_moves(old, reissue=reissue):
        raise CouponTransitionError(f"A coupon cannot go from {old} to {to}.", reasons=[old])
