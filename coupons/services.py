"""Coupon series set-up, code generation, issuance and status changes."""

import re
from dataclasses import dataclass
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, F, Max, Q
from django.utils import timezone

from config import ranges
from config.actors import Actor
from config.tasks import enqueue_on_commit

from . import rules
from .codes import randomized_common_space, series_code_space, series_generator
from .exceptions import (
    CouponIssueError,
    CouponSeriesInvalidError,
    CouponTransitionError,
    SettingLockedError,
)
from .expiry import coupon_expires_at, coupon_redeemable_from, offer_end
from .locks import series_issuance_lock
from .models import Coupon, CouponEvent, CouponSeries, Reminder, SeriesAllowedMember

CODE_RE = re.compile(r"^[A-Za-z0-9-]{1,64}$")

# Settings a third-party series refuses: it is issued and reminded elsewhere, to anyone.
THIRD_PARTY_REFUSED = (
    "max_per_member",
    "min_gap_days",
    "series_limit",
    "limit_notify_remaining",
    "exclude_window_days",
)
CODE_SETTINGS = ("code_mode", "code_length", "code_charset", "common_code", "code_prefix")

Status = Coupon.Status

# Every allowed status move of a coupon; `coupon_transition` is the only place that changes a status.
TRANSITIONS: dict[str, set[str]] = {
    Status.UNISSUED: {Status.ISSUED, Status.REVOKED, Status.EXPIRED},
    Status.ISSUED: {Status.REDEEMED, Status.EXPIRED, Status.REVOKED},
    Status.REDEEMED: {Status.ISSUED},  # a reversed redemption reinstates the coupon
    Status.EXPIRED: set(),
    Status.REVOKED: set(),
}


# ---------------------------------------------------------------------------------------------------
# Series


def series_create(
    *,
    actor: Actor,
    reminders=(),
    exclude_recipients_of=(),
    redemption_stores=(),
    org_entities=(),
    sample_code: str | None = None,
    **fields,
) -> CouponSeries:
    series = CouponSeries(**fields)
    series.common_code = (series.common_code or "").strip().upper()
    if series.code_mode == CouponSeries.CodeMode.RANDOMIZED_COMMON:
        apply_sample_code(series, sample_code)
    series_validate(series, reminders=reminders, exclude_recipients_of=exclude_recipients_of)
    try:
        with transaction.atomic():
            series.save()
            _save_relations(series, reminders, exclude_recipients_of, redemption_stores, org_entities)
    except IntegrityError as exc:
        raise CouponSeriesInvalidError(
            "The fixed part of this sample code is used by another series.",
            errors={"code_generation": ["The sample code's first half must be unique in the program."]},
        ) from exc
    return series


@transaction.atomic
def series_update(
    *,
    series: CouponSeries,
    actor: Actor,
    reminders=None,
    exclude_recipients_of=None,
    redemption_stores=None,
    org_entities=None,
    sample_code: str | None = None,
    **fields,
) -> CouponSeries:
    series = CouponSeries.objects.select_for_update().get(pk=series.pk)
    series_check_lock(series=series, fields=fields, sample_code=sample_code)
    for name, value in fields.items():
        setattr(series, name, value)
    series.common_code = (series.common_code or "").strip().upper()
    if sample_code is not None:
        apply_sample_code(series, sample_code)
    series_validate(
        series,
        reminders=reminders if reminders is not None else list(series.reminders.values()),
        exclude_recipients_of=exclude_recipients_of or (),
    )
    series.save()
    _save_relations(series, reminders, exclude_recipients_of, redemption_stores, org_entities)
    return series


def series_check_lock(*, series: CouponSeries, fields: dict, sample_code: str | None) -> None:
    """The code generation of a series with codes, and a randomized common sample code, never change."""
    changes_codes = sample_code is not None or any(
        name in fields and fields[name] != getattr(series, name) for name in CODE_SETTINGS
    )
    if changes_codes and (series.code_mode == CouponSeries.CodeMode.RANDOMIZED_COMMON or _has_codes(series)):
        raise SettingLockedError(
            "The code generation of a series with codes, and a randomized common sample code, never change.",
            reasons=["code_generation"],
        )


def _has_codes(series) -> bool:
    return series.issued_count > 0 or series.code_count > 0 or series.coupons.exists()


def apply_sample_code(series, sample_code):
    if not sample_code or not CODE_RE.match(sample_code) or "-" in sample_code or not 5 <= len(sample_code) <= 10:
        raise CouponSeriesInvalidError(
            "A sample code has 5 to 10 letters or digits.",
            errors={"code_generation": ["sample_code: 5 to 10 letters or digits."]},
        )
    space = randomized_common_space(sample_code)
    series.code_prefix = space.prefix
    series.code_length = space.length
    series.code_charset = "numeric" if space.alphabet.isdigit() else "alphanumeric"


# Each numeric setting: the contract's group and name for it, and its range (config.ranges).
SETTING_RANGES = {
    "discount_value": ("discount", "value", ranges.MONEY),
    "expiry_days": ("expiry", "days", ranges.DAYS),
    "expiry_months": ("expiry", "months", ranges.MONTHS),
    "max_per_member": ("issual", "max_per_member", ranges.POSITIVE_COUNT),
    "min_gap_days": ("issual", "min_gap_days", ranges.DAYS),
    "series_limit": ("issual", "series_limit", ranges.COUNT),
    "limit_notify_remaining": ("issual", "limit_notify_remaining", ranges.COUNT),
    "exclude_window_days": ("issual", "exclude_window_days", ranges.DAYS),
    "redemption_start_days": ("redemption", "start.days", ranges.DAYS),
    "redemption_max_per_member": ("redemption", "max_per_member", ranges.POSITIVE_COUNT),
    "min_bill": ("redemption", "min_bill", ranges.MONEY),
    "max_bill": ("redemption", "max_bill", ranges.MONEY),
    "redemption_min_gap_days": ("redemption", "min_gap_days", ranges.DAYS),
    "redemption_series_limit": ("redemption", "series_limit", ranges.COUNT),
    "new_members_max_transactions": ("redemption", "new_members.max_transactions", ranges.COUNT),
}
SETTING_LISTS = {
    "days_of_week": ranges.DAY_OF_WEEK,
    "days_of_month": ranges.DAY_OF_MONTH,
    "hours": ranges.HOUR,
}


def _range_errors(series, reminders) -> dict[str, list[str]]:
    """Every numeric setting outside its range, so a series that could not issue is never saved."""
    errors: dict[str, list[str]] = {}
    for attribute, (group, name, allowed) in SETTING_RANGES.items():
        value = getattr(series, attribute)
        if value is not None and value not in allowed:
            errors.setdefault(group, []).append(f"{name}: between {allowed.min:,} and {allowed.max:,}.")
    for attribute, allowed in SETTING_LISTS.items():
        try:
            allowed.list_validator()(getattr(series, attribute))
        except ValidationError as exc:
            errors.setdefault("redemption", []).append(f"{attribute}: {' '.join(exc.messages)}")
    for reminder in reminders:
        days = reminder["days_before_expiry"]
        if days not in ranges.DAYS:
            errors.setdefault("reminders", []).append(f"days_before_expiry: {ranges.DAYS.message()}")
    return errors


def series_validate(series, *, reminders, exclude_recipients_of):
    errors = _range_errors(series, reminders)
    if errors:
        raise CouponSeriesInvalidError("The coupon series settings are out of range.", errors=errors)
    if series.is_third_party:
        refused = [name for name in THIRD_PARTY_REFUSED if getattr(series, name) is not None]
        if refused or reminders or exclude_recipients_of or series.limit_notify_emails:
            errors["issual"] = ["A third-party series takes no issual or reminder settings."]
        if series.specific_members_only or series.resend_sms_template:
            errors.setdefault("issual", []).append("A third-party series takes no member restrictions.")
    mode = series.code_mode
    if mode == CouponSeries.CodeMode.UNIQUE:
        if not series.code_length or not 4 <= series.code_length <= 16:
            errors["code_generation"] = ["length: 4 to 16 characters."]
        if series.code_charset not in CouponSeries.Charset.values:
            errors.setdefault("code_generation", []).append("charset: numeric or alphanumeric.")
    if mode == CouponSeries.CodeMode.COMMON and not CODE_RE.match(series.common_code or ""):
        errors["code_generation"] = ["code: 1 to 64 letters, digits or '-'."]
    if (
        series.expiry_mode == CouponSeries.ExpiryMode.WITH_OFFER
        and offer_end(series.offer.expire_at, series.offer.usage_end) is None
    ):
        errors["expiry"] = ["'with_offer' needs an offer that ends on a fixed date."]
    if series.expiry_mode == CouponSeries.ExpiryMode.DAYS_FROM_ISSUE and series.expiry_days is None:
        errors["expiry"] = ["days is required."]
    if series.expiry_mode == CouponSeries.ExpiryMode.MONTH_ENDS_FROM_ISSUE and series.expiry_months is None:
        errors["expiry"] = ["months is required."]
    if series.discount_type == CouponSeries.DiscountType.PERCENTAGE and series.discount_value not in ranges.PERCENTAGE:
        errors["discount"] = ["A percentage is between 0 and 100."]
    if series.min_bill is not None and series.max_bill is not None and series.max_bill < series.min_bill:
        errors["redemption"] = ["max_bill is below min_bill."]
    if series.pk and any(getattr(other, "pk", other) == series.pk for other in exclude_recipients_of):
        errors.setdefault("issual", []).append("A series cannot exclude its own recipients.")
    if errors:
        raise CouponSeriesInvalidError("The coupon series settings are invalid.", errors=errors)


def _save_relations(series, reminders, exclude_recipients_of, redemption_stores, org_entities):
    if reminders is not None:
        series.reminders.all().delete()
        Reminder.objects.bulk_create(
            Reminder(series=series, days_before_expiry=r["days_before_expiry"], channel=r["channel"], time=r["time"])
            for r in reminders
        )
    if exclude_recipients_of is not None:
        series.exclude_recipients_of.set(exclude_recipients_of)
    if redemption_stores is not None:
        series.redemption_stores.set(redemption_stores)
    if org_entities is not None:
        series.org_entities.set(org_entities)


# ---------------------------------------------------------------------------------------------------
# Capacity


@dataclass(frozen=True)
class SeriesCapacity:
    capacity: int | None  # codes the series can ever have; None: unbounded (a common code)
    issued: int
    redeemed: int
    remaining: int | None  # issuals still possible under capacity and series limit
    code_space: int | None
    guess_odds: float | None  # chance a random well-formed guess hits a live code
    guess_warning: bool


def series_capacity(series: CouponSeries, *, planned: int = 0) -> SeriesCapacity:
    """What a series can still issue, and how guessable its live codes are (with `planned` more issued)."""
    from .codes import GUESS_WARNING_ODDS

    space = series_code_space(series)
    if space is not None:
        capacity = space.size
        used = series.next_code_index
    elif series.code_mode == CouponSeries.CodeMode.UPLOAD:
        capacity, used = series.code_count, series.issued_count
    else:
        capacity, used = None, series.issued_count
    bounds = []
    if capacity is not None:
        bounds.append(capacity - used)
    if series.series_limit is not None:
        bounds.append(series.series_limit - series.issued_count)
    remaining = max(0, min(bounds)) if bounds else None
    odds = None
    if space is not None:
        live = max(0, series.issued_count - series.redeemed_count) + planned
        odds = live / space.size
    return SeriesCapacity(
        capacity=capacity,
        issued=series.issued_count,
        redeemed=series.redeemed_count,
        remaining=remaining,
        code_space=space.size if space else None,
        guess_odds=odds,
        guess_warning=odds is not None and odds >= GUESS_WARNING_ODDS,
    )


def _codes_left(series) -> int | None:
    space = series_code_space(series)
    if space is not None:
        return space.size - series.next_code_index
    if series.code_mode == CouponSeries.CodeMode.UPLOAD:
        return series.code_count - series.issued_count
    return None


# ---------------------------------------------------------------------------------------------------
# Issuing


@dataclass(frozen=True)
class IssueResult:
    coupon: Coupon
    resent: bool = False


def issual_facts(*, series: CouponSeries, member, now) -> tuple[rules.IssualFacts, Coupon | None]:
    """Everything the issual rules need about one member and one (locked) series."""
    mine = Coupon.objects.filter(series=series, member=member).exclude(status=Status.REVOKED)
    held = mine.aggregate(count=Count("id"), last=Max("issued_at"))
    valid = (
        mine.filter(status=Status.ISSUED)
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
        codes_left=_codes_left(series),
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
        coupon = _create_issued_coupon(series=series, member=member, now=now, code=code)
        old = Status.UNISSUED if getattr(coupon, "was_unissued", False) else ""
        _record(coupon, old=old, new=Status.ISSUED, actor=actor, reason="issued")
        series_note_issued(series=series, count=1)
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


def _create_issued_coupon(*, series, member, now, code):
    expires_at, redeemable_from = coupon_times(series, now)
    fields = dict(
        series=series,
        member=member,
        status=Status.ISSUED,
        issued_at=now,
        expires_at=expires_at,
        redeemable_from=redeemable_from,
        last_status_change_on=now,
    )
    mode = series.code_mode
    if code is not None:
        coupon = Coupon.objects.create(code=code, **fields)
        CouponSeries.objects.filter(pk=series.pk).update(code_count=F("code_count") + 1)
        return coupon
    if mode == CouponSeries.CodeMode.COMMON:
        return Coupon.objects.create(code=series.common_code, is_common=True, **fields)
    if mode == CouponSeries.CodeMode.UPLOAD:
        coupon = (
            Coupon.objects.select_for_update(skip_locked=True)
            .filter(series=series, status=Status.UNISSUED, member__isnull=True)
            .order_by("pk")
            .first()
        )
        if coupon is None:
            raise CouponIssueError("No uploaded codes are left.", code="series_exhausted", reasons=["series_exhausted"])
        Coupon.objects.filter(pk=coupon.pk, status=Status.UNISSUED).update(**fields)
        coupon.refresh_from_db()
        coupon.was_unissued = True
        return coupon
    return _create_generated_coupon(series=series, fields=fields)


def _create_generated_coupon(*, series, fields):
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
                coupon = Coupon.objects.create(code=code, **fields)
        except IntegrityError:
            continue
        CouponSeries.objects.filter(pk=series.pk).update(next_code_index=index)
        series.next_code_index = index
        return coupon
    raise CouponIssueError("The series has used its whole code space.", code="series_exhausted",
                           reasons=["series_exhausted"])  # fmt: skip


def series_note_issued(*, series: CouponSeries, count: int) -> None:
    """Count issued coupons (F()) and, once remaining issuals fall to the threshold, queue ONE email."""
    if count <= 0:
        return
    CouponSeries.objects.filter(pk=series.pk).update(issued_count=F("issued_count") + count)
    series.refresh_from_db(fields=["issued_count", "next_code_index", "code_count", "limit_notified_at"])
    if series.limit_notify_remaining is None or not series.limit_notify_emails:
        return
    remaining = series_capacity(series).remaining
    if remaining is None or remaining > series.limit_notify_remaining:
        return
    claimed = CouponSeries.objects.filter(pk=series.pk, limit_notified_at__isnull=True).update(
        limit_notified_at=timezone.now()
    )
    if claimed:
        from .tasks import series_limit_notify_task

        enqueue_on_commit(series_limit_notify_task, series_id=series.pk, remaining=remaining)


def series_limit_notify(*, series_id: int, remaining: int) -> None:
    from django.core.mail import send_mail

    series = CouponSeries.objects.get(pk=series_id)
    send_mail(
        subject=f"Coupon series {series.name!r}: {remaining} issuals left",
        message=(
            f"The coupon series {series.name!r} (offer {series.offer_id}) has {remaining} issuals left "
            f"of its limit of {series.series_limit}.\n"
        ),
        from_email=None,
        recipient_list=list(series.limit_notify_emails),
    )


# ---------------------------------------------------------------------------------------------------
# Status changes and members lists


def transition_check(old: str, to: str) -> None:
    """Raise unless the transition table allows a coupon to move from `old` to `to`."""
    if to not in TRANSITIONS.get(old, set()):
        raise CouponTransitionError(f"A coupon cannot go from {old} to {to}.", reasons=[old])


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
        _record(coupon, old=old, new=to, actor=actor, reason=reason)
    if refresh:
        coupon.refresh_from_db()
    else:
        for name, value in changes.items():
            setattr(coupon, name, value)
    return coupon


def series_allow_members(*, series: CouponSeries, member_ids) -> int:
    rows = [SeriesAllowedMember(series=series, member_id=pk) for pk in member_ids]
    created = SeriesAllowedMember.objects.bulk_create(rows, ignore_conflicts=True)
    return len(created)


def _record(coupon, *, old, new, actor, reason):
    CouponEvent.objects.create(
        coupon=coupon,
        old_status=old,
        new_status=new,
        actor=actor.name if actor else "system",
        channel=actor.channel if actor else "system",
        reason=reason,
    )
