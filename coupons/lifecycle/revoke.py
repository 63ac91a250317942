"""Revoking coupons of a series (seed 003 "Revoke Coupon").

Revocation runs as set-based UPDATEs in committed batches: each batch locks its rows in pk order and
moves them through the set-based writer (`coupons_transition`), one UPDATE per old status and one event
per coupon moved. Redeemed coupons are never
revoked; a member's every active (issued) coupon of the series is.
"""

import logging

from django.db import transaction
from django.utils import timezone

from audit.models import AuditEvent
from audit.services import audit_record
from config.actors import Actor
from coupons.exceptions import ConfirmationRequiredError, CouponSeriesInvalidError
from coupons.lifecycle.status import coupons_transition
from coupons.lifecycle.transitions import allowed_moves
from coupons.models import Coupon, CouponSeries
from members.models import Member
from webhooks import events
from webhooks.payloads import coupons_emit

logger = logging.getLogger(__name__)

Status = Coupon.Status

REVOKE_MODES = {
    "all_unredeemed": (Status.ISSUED, Status.UNISSUED),
    "unissued": (Status.UNISSUED,),
    "members": (Status.ISSUED,),
}
REVOKE_MODE_WORDS = {
    "all_unredeemed": "every unredeemed coupon",
    "unissued": "the codes not issued yet",
    "members": "the named members' issued coupons",
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
                break
            last_pk = batch[-1][0]
            revoked += _revoke_batch(batch, actor=actor, reason=f"revoked ({mode})")
    audit_record(
        actor=actor,
        action=AuditEvent.Action.REVOKE,
        obj=series,
        changes={"revoked_coupons": [None, revoked]},
        summary=f"Revoked {revoked} coupons: {REVOKE_MODE_WORDS[mode]}",
    )
    return revoked


def _revoke_batch(batch, *, actor: Actor, reason: str) -> int:
    now = timezone.now()
    by_status: dict[str, list[int]] = {}
    for pk, status in batch:
        if Status.REVOKED in allowed_moves(status):
            by_status.setdefault(status, []).append(pk)
    revoked = sum(
        coupons_transition(ids=pks, from_status=old, to=Status.REVOKED, actor=actor, reason=reason, at=now)
        for old, pks in by_status.items()
    )
    moved = Coupon.objects.filter(pk__in=[pk for pk, _ in batch], status=Status.REVOKED, last_status_change_on=now)
    coupons_emit(type=events.COUPON_REVOKED, queryset=moved, at=now)
    return revoked
