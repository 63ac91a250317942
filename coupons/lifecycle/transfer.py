"""Moving an issued coupon from one member to another: same code, same row, one event."""

from django.db import transaction
from django.utils import timezone

from audit.models import AuditEvent
from audit.services import audit_record
from config.actors import Actor
from coupons.exceptions import TransferError
from coupons.lifecycle.status import coupon_event
from coupons.models import Coupon
from members.models import Member

ISSUED = Coupon.Status.ISSUED


@transaction.atomic
def coupon_transfer(*, coupon: Coupon, to_member: Member, actor: Actor) -> Coupon:
    """Take an issued coupon from its member and reissue the same code to `to_member`, in one transaction.

    A code is unique, so the coupon keeps its row: its holder changes, it is issued again now (its expiry
    and redemption start stay as they were, so a transfer never extends a coupon), and one event records
    the move from one member to the other.
    """
    coupon = Coupon.objects.select_for_update(of=("self",)).select_related("member").get(pk=coupon.pk)
    if coupon.is_common:
        raise TransferError(
            "A common code is given to every member; issue it to the other member instead.", reasons=["common_code"]
        )
    if coupon.status != ISSUED:
        raise TransferError(
            f"Only an issued coupon can be transferred; this one is {coupon.status}.", reasons=[coupon.status]
        )
    if coupon.member_id == to_member.pk:
        raise TransferError("The coupon already belongs to this member.", reasons=["same_member"])
    if not to_member.is_active:
        raise TransferError("The member is inactive.", reasons=["member_inactive"])
    previous = coupon.member.external_id if coupon.member else "-"
    now = timezone.now()
    Coupon.objects.filter(pk=coupon.pk, status=ISSUED).update(
        member=to_member, issued_at=now, last_status_change_on=now, is_reversed=False
    )
    # Not a status move (the coupon stays issued): the holder changes, and the event records it as issued again.
    coupon_event(coupon_id=coupon.pk, old=ISSUED, new=ISSUED, actor=actor, at=now,
                 reason=f"transferred from {previous} to {to_member.external_id}").save(force_insert=True)  # fmt: skip
    audit_record(
        actor=actor,
        action=AuditEvent.Action.TRANSFER,
        obj=coupon,
        changes={"member": [previous, to_member.external_id]},
        summary=f"Transferred from {previous} to {to_member.external_id}",
    )
    coupon.refresh_from_db()
    return coupon
