"""Revoking coupons of a series (seed 003 "Revoke Coupon"), transferring one code, resending one.

Revocation runs as set-based UPDATEs in committed batches: each batch locks its rows in pk order,
moves them with one UPDATE per old status and writes one event per coupon. Redeemed coupons are never
revoked; a member's every active (issued) coupon of the series is.
"""

import logging

from django.db import transaction
from django.utils import timezone

from config.actors import Actor
from members.models import Member

from .exceptions import ConfirmationRequiredError, CouponSeriesInvalidError, RevokeError
from .models import Coupon, CouponEvent, CouponResend, CouponSeries
from .services import TRANSITIONS

logger = logging.getLogger(__name__)

Status = Coupon.Status

REVOKE_MODES = {
    "all_unredeemed": (Status.ISSUED, Status.UNISSUED),
    "unissued": (Status.UNISSUED,),
    "members": (Status.ISSUED,),
}
BATCH_SIZE = 5_000


def revoke_queryset(*, series: CouponSeries, mode: str, member_ids=()):
    if mode not in REVOKE_MODES:
        raise CouponSeriesInvalidError("Unknown revoke mode.", errors={"mode": [f"One of {', '.join(REVOKE_MODES)}."]})
    rows = Coupon.objects.filter(series=series, status__in=REVOKE_MODES[mode])
    if mode == "members":
        rows = rows.filter(member_id__in=list(member_ids))
    return rows


def revoke_count(*, series: CouponSeries, mode: str, member_ids=()) -> int:
    """How many coupons a revoke would touch now (the admin's confirmation page shows it)."""
    return revoke_queryset(series=series, mode=mode, member_ids=member_ids).count()


def members_by_external_id(external_ids) -> list[Member]:
    wanted = {str(value).strip() for value in external_ids if str(value).strip()}
    found = list(Member.objects.filter(external_id__in=wanted))
    unknown = sorted(wanted - {m.external_id for m in found})
    if unknown:
        raise CouponSeriesInvalidError(
            "Some members are unknown.", errors={"members": [f"Unknown member: {value}" for value in unknown[:50]]}
        )
    return found


def series_revoke(
    *, series: CouponSeries, mode: str, actor: Actor, confirm: bool, members=(), batch_size: int = BATCH_SIZE
) -> int:
    """Revoke the series' coupons in `mode`; returns how many were revoked."""
    if not confirm:
        raise ConfirmationRequiredError(
            "Revoking makes coupons unredeemable for good; send confirm: true.", code="confirmation_required"
        )
    if mode == "members" and not members:
        raise CouponSeriesInvalidError("Name the members whose coupons to revoke.", errors={"members": ["Required."]})
    member_ids = [m.pk for m in members]
    revoked = 0
    last_pk = 0
    while True:
        with transaction.atomic():
            batch = list(
                revoke_queryset(series=series, mode=mode, member_ids=member_ids)
                .filter(pk__gt=last_pk)
                .select_for_update()
                .order_by("pk")
                .values_list("pk", "status")[:batch_size]
            )
            if not batch:
                return revoked
            last_pk = batch[-1][0]
            revoked += _revoke_batch(batch, actor=actor, reason=f"revoked ({mode})")


def _revoke_batch(batch, *, actor: Actor, reason: str) -> int:
    now = timezone.now()
    by_status: dict[str, list[int]] = {}
    for pk, status in batch:
        if Status.REVOKED in TRANSITIONS.get(status, set()):
            by_status.setdefault(status, []).append(pk)
    moved = 0
    for old, pks in by_status.items():
        moved += Coupon.objects.filter(pk__in=pks, status=old).update(status=Status.REVOKED, last_status_change_on=now)
        CouponEvent.objects.bulk_create(
            CouponEvent(coupon_id=pk, old_status=old, new_status=Status.REVOKED, actor=actor.name,
                        channel=actor.channel, reason=reason, at=now)
            for pk in pks
        )  # fmt: skip
    return moved


@transaction.atomic
def coupon_transfer(*, coupon: Coupon, to_member: Member, actor: Actor) -> Coupon:
    """Take an issued coupon from its member and reissue the same code to `to_member`, in one transaction.

    A code is unique, so the coupon keeps its row: its holder changes, it is issued again now (its expiry
    and redemption start stay as they were, so a transfer never extends a coupon), and one event records
    the move from one member to the other.
    """
    coupon = Coupon.objects.select_for_update(of=("self",)).select_related("member").get(pk=coupon.pk)
    if coupon.is_common:
        raise RevokeError("A common code is given to every member; issue it to the other member instead.",
                          code="coupon_not_transferable", reasons=["common_code"])  # fmt: skip
    if coupon.status != Status.ISSUED:
        raise RevokeError(f"Only an issued coupon can be transferred; this one is {coupon.status}.",
                          code="coupon_not_transferable", reasons=[coupon.status])  # fmt: skip
    if coupon.member_id == to_member.pk:
        raise RevokeError("The coupon already belongs to this member.", code="coupon_not_transferable",
                          reasons=["same_member"])  # fmt: skip
    if not to_member.is_active:
        raise RevokeError("The member is inactive.", code="coupon_not_transferable", reasons=["member_inactive"])
    previous = coupon.member.external_id if coupon.member else "-"
    now = timezone.now()
    Coupon.objects.filter(pk=coupon.pk, status=Status.ISSUED).update(
        member=to_member, issued_at=now, last_status_change_on=now, is_reversed=False
    )
    CouponEvent.objects.create(
        coupon=coupon, old_status=Status.ISSUED, new_status=Status.ISSUED, actor=actor.name, channel=actor.channel,
        reason=f"transferred from {previous} to {to_member.external_id}", at=now,
    )  # fmt: skip
    coupon.refresh_from_db()
    return coupon


DEFAULT_RESEND_TEMPLATE = "Your coupon code is {code}. Valid until {expires_at}."


def render_resend(template: str, coupon: Coupon) -> str:
    values = {
        "code": coupon.code,
        "series": coupon.series.name,
        "first_name": coupon.member.first_name if coupon.member else "",
        "expires_at": f"{coupon.expires_at:%Y-%m-%d}" if coupon.expires_at else "no expiry",
    }
    try:
        return template.format(**values)
    except (KeyError, IndexError, ValueError):
        return template  # an unknown tag is sent as written rather than failing the resend


def coupon_resend(*, coupon: Coupon, actor: Actor) -> CouponResend:
    """Send the member's coupon again by SMS with the series' resend template.

    There is no SMS gateway in the program yet: the message is recorded as a CouponResend row (shown in
    the admin) and logged on the `coupons.sms` logger.
    """
    if coupon.member is None or coupon.status != Status.ISSUED:
        raise RevokeError("Only an issued coupon can be resent.", code="coupon_not_resendable",
                          reasons=[coupon.status])  # fmt: skip
    template = coupon.series.resend_sms_template or DEFAULT_RESEND_TEMPLATE
    message = render_resend(template, coupon)
    resend = CouponResend.objects.create(
        coupon=coupon, channel="sms", recipient=coupon.member.mobile or "", message=message,
        actor=actor.name, actor_channel=actor.channel,
    )  # fmt: skip
    logging.getLogger("coupons.sms").info("SMS to %s: %s", resend.recipient or "-", message)
    return resend
