"""Issuing one coupon to one member: the issual rules, the code, its validity and the event."""

from dataclasses import dataclass
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import Count, F, Max, Q
from django.utils import timezone

from config.actors import Actor
from coupons.exceptions import CouponIssueError
from coupons.issuance import rules
from coupons.issuance.locks import series_issuance_lock
from coupons.issuance.validity import coupon_expires_at, coupon_redeemable_from, offer_end
from coupons.lifecycle.status import coupon_created_event_record, coupon_transition
from coupons.models import Coupon, CouponSeries, SeriesAllowedMember
from coupons.notify.limits import series_note_issued
from coupons.series.capacity import codes_left
from coupons.series.codes import series_generator
from webhooks import events
from webhooks.payloads import coupon_emit


@dataclass(frozen=True)
class IssueResult:
    coupon: Coupon
    resent: bool = False


def issual_facts(*, series: CouponSeries, member, now) -> tuple[rules.IssualFacts, Coupon | None]:
    """Everything the issual rules need about one member and one (locked) series."""
    mine = Coupon.objects.filter(series=series, member=member).exclude(status=Coupon.Status.REVOKED)
    held = mine.aggregate(count=Count("id"), last=Max("issued_at"))
    valid = (
        mine.filter(status=Coupon.Status.ISSUED)
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
        .order_by("-issued_at", "-id")
        .first()
    )
    excluded = False
    if series.exclude_window_days is not None:
        excluded_ids = list(series.exclude_recipients_of.values_list("pk", flat=True))
        excluded = (
            bool(excluded_ids)
            and Coupon.objects.filter(
                series_id__in=excluded_ids,
                member=member,
                issued_at__gte=now - timedelta(days=series.exclude_window_days),
            ).exists()
        )
    is_common = series.code_mode == CouponSeries.CodeMode.COMMON
    facts = rules.IssualFacts(
        now=now,
        member_active=member.is_active,
        is_common=is_common,
        specific_members_only=series.specific_members_only,
        max_per_member=series.max_per_member,
        min_gap_days=series.min_gap_days,
        series_limit=series.series_limit,
        on_allowed_list=series.specific_members_only
        and SeriesAllowedMember.objects.filter(series=series, member=member).exists(),
        member_issued_count=held["count"],
        member_last_issued_at=held["last"],
        member_has_common_code=is_common and held["count"] > 0,
        received_excluded_series_recently=excluded,
        series_issued_count=series.issued_count,
        codes_left=codes_left(series),
    )
    return facts, valid


def coupon_issue(*, series: CouponSeries, member, actor: Actor, code: str | None = None, now=None) -> IssueResult:
    """Issue one coupon of `series` to `member`, or resend their valid one, or refuse with every reason.

    The series row is locked for the decision, so limits hold whatever the concurrency. `code` issues an
    uploaded existing code (migrations) instead of the series' next one.
    """
    now = now or timezone.now()
    with transaction.atomic():
        series_issuance_lock(series.pk)
        series = CouponSeries.objects.select_for_update().select_related("offer").get(pk=series.pk)
        facts, valid = issual_facts(series=series, member=member, now=now)
        if code is not None:
            facts = rules.IssualFacts(**{**facts.__dict__, "codes_left": None})
        reasons = rules.issual_reasons(facts)
        if reasons:
            if rules.should_resend(reasons, on_rematch=series.on_rematch, has_valid_coupon=valid is not None):
                return IssueResult(coupon=valid, resent=True)
            raise CouponIssueError(f"Coupon not issued: {', '.join(reasons)}.", code=reasons[0], reasons=reasons)
        coupon = _issue_coupon(series=series, member=member, now=now, code=code, actor=actor)
        series_note_issued(series=series, count=1)
        coupon_emit(type=events.COUPON_ISSUED, coupon_id=coupon.pk, at=now)
        return IssueResult(coupon=coupon)


def coupon_times(series: CouponSeries, now):
    offer = series.offer
    expires_at = coupon_expires_at(
        mode=series.expiry_mode,
        issued_at=now,
        days=series.expiry_days,
        months=series.expiry_months,
        offer_ends_at=offer_end(offer.expire_at, offer.usage_end),
    )
    redeemable_from = coupon_redeemable_from(
        mode=series.redemption_start_mode,
        issued_at=now,
        days=series.redemption_start_days,
        start_date=series.redemption_start_date,
    )
    return expires_at, redeemable_from


def _issue_coupon(*, series, member, now, code, actor) -> Coupon:
    """The coupon issued to `member` now, with its event: a new row (born issued), or an uploaded code
    claimed (unissued → issued) or moved from the member it was revoked from (revoked → issued)."""
    expires_at, redeemable_from = coupon_times(series, now)
    holder = dict(member=member, issued_at=now, expires_at=expires_at, redeemable_from=redeemable_from)
    if code is not None:
        reissued = _reissue_revoked_code(series=series, code=code, holder=holder, now=now, actor=actor)
        if reissued is not None:
            return reissued
        coupon = _create_issued(series=series, code=code, holder=holder, now=now, actor=actor)
        CouponSeries.objects.filter(pk=series.pk).update(code_count=F("code_count") + 1)
        return coupon
    mode = series.code_mode
    if mode == CouponSeries.CodeMode.COMMON:
        return _create_issued(series=series, code=series.common_code, is_common=True, holder=holder, now=now,
                              actor=actor)  # fmt: skip
    if mode == CouponSeries.CodeMode.UPLOAD:
        coupon = (
            Coupon.objects.select_for_update(skip_locked=True)
            .filter(series=series, status=Coupon.Status.UNISSUED, member__isnull=True)
            .order_by("pk")
            .first()
        )
        if coupon is None:
            raise CouponIssueError("No uploaded codes are left.", code="series_exhausted", reasons=["series_exhausted"])
        return coupon_transition(coupon=coupon, to=Coupon.Status.ISSUED, actor=actor, reason="issued", at=now,
                                 **holder)  # fmt: skip
    coupon = _create_generated_coupon(series=series, holder=holder, now=now)
    coupon_created_event_record(coupon=coupon, actor=actor)
    return coupon


def _create_issued(*, series, code, holder, now, actor, is_common=False) -> Coupon:
    """A new row, born issued (creation is not a transition), and its first event."""
    coupon = Coupon.objects.create(series=series, code=code, is_common=is_common, **_born_issued(holder, now))
    coupon_created_event_record(coupon=coupon, actor=actor)
    return coupon


def _born_issued(holder, now) -> dict:
    return dict(holder, status=Coupon.Status.ISSUED, last_status_change_on=now)


def _reissue_revoked_code(*, series, code, holder, now, actor) -> Coupon | None:
    """Seed 003's route for moving a coupon: revoke it, then upload the same code with the new member.

    A code revoked in this series, uploaded again with a member other than the one it was revoked
    from, is issued to that member on its own row: the code stays unique (a till finds the one live
    coupon), and the row's events keep the revoke and this re-issue. It is a fresh issue (new expiry and
    redemption start, counted as issued) of a code uploaded again (counted in the capacity, as any
    uploaded code). None when there is no such code; the caller then inserts it, and the unique index
    refuses a code held anywhere else.
    """
    coupon = (
        Coupon.objects.select_for_update()
        .filter(series=series, code=code, is_common=False, status=Coupon.Status.REVOKED)
        .exclude(member=holder["member"])
        .first()
    )
    if coupon is None:
        return None
    previous = coupon.member.external_id if coupon.member_id else "no member"
    coupon_transition(coupon=coupon, to=Coupon.Status.ISSUED, actor=actor, reissue=True, at=now,
                      reason=f"re-issued by a codes upload (revoked from {previous})", is_reversed=False,
                      **holder)  # fmt: skip
    CouponSeries.objects.filter(pk=series.pk).update(code_count=F("code_count") + 1)
    return coupon


def _create_generated_coupon(*, series, holder, now):
    """The series' next code perm(n). A permutation never repeats within the series; a clash with
    another series' code (odds live/space) skips that position, bounded by the space itself."""
    generator = series_generator(series)
    size = generator.space.size
    index = series.next_code_index
    while index < size:
        code = generator.code(index)
        index += 1
        try:
            with transaction.atomic():
                coupon = Coupon.objects.create(series=series, code=code, **_born_issued(holder, now))
        except IntegrityError:
            continue
        CouponSeries.objects.filter(pk=series.pk).update(next_code_index=index)
        series.next_code_index = index
        return coupon
    raise CouponIssueError("The series has used its whole code space.", code="series_exhausted",
                           reasons=["series_exhausted"])  # fmt: skip
