"""The one writer of a coupon's status, and its event."""

from django.db import transaction
from django.utils import timezone

from config.actors import Actor
from coupons.exceptions import CouponTransitionError
from coupons.lifecycle.transitions import transition_check
from coupons.models import Coupon, CouponEvent


def coupon_transition(
    *, coupon: Coupon, to: str, actor: Actor, reason: str = "", refresh: bool = True, **fields
) -> Coupon:
    """Move a coupon to `to` if the transition table allows it from its current status (compare-and-swap).

    `refresh=False` skips re-reading the row: the till's redeem path sets the changed fields in memory.
    """
    old = coupon.status
    transition_check(old, to)
    now = timezone.now()
    changes = {"status": to, "last_status_change_on": now, **fields}
    # No savepoint inside a caller's transaction: a lost swap raises, and the caller's whole unit rolls back.
    with transaction.atomic(savepoint=False):
        moved = Coupon.objects.filter(pk=coupon.pk, status=old).update(**changes)
        if not moved:
            coupon.refresh_from_db(fields=["status"])
            raise CouponTransitionError(f"The coupon is {coupon.status} now.", reasons=[coupon.status])
        coupon_event_record(coupon, old=old, new=to, actor=actor, reason=reason)
    if refresh:
        coupon.refresh_from_db()
    else:
        for name, value in changes.items():
            setattr(coupon, name, value)
    return coupon


def coupon_event_record(coupon, *, old, new, actor, reason):
    CouponEvent.objects.create(
        coupon=coupon,
        old_status=old,
        new_status=new,
        actor=actor.name if actor else "system",
        channel=actor.channel if actor else "system",
        reason=reason,
    )
