"""Every allowed status move of a coupon."""

from coupons.exceptions import CouponTransitionError
from coupons.models import Coupon

Status = Coupon.Status


# Every allowed status move of a coupon; `coupon_transition` is the only place that changes a status.
TRANSITIONS: dict[str, set[str]] = {
    Status.UNISSUED: {Status.ISSUED, Status.REVOKED, Status.EXPIRED},
    Status.ISSUED: {Status.REDEEMED, Status.EXPIRED, Status.REVOKED},
    Status.REDEEMED: {Status.ISSUED},  # a reversed redemption reinstates the coupon
    Status.EXPIRED: set(),
    Status.REVOKED: set(),
}


def transition_check(old: str, to: str) -> None:
    """Raise unless the transition table allows a coupon to move from `old` to `to`."""
    if to not in TRANSITIONS.get(old, set()):
        raise CouponTransitionError(f"A coupon cannot go from {old} to {to}.", reasons=[old])
