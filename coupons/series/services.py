"""Coupon series set-up: settings, their ranges and locks, sample codes, and the series' rules and reminders."""

from contextlib import contextmanager

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from audit.exceptions import HistoryKeptError
from audit.protection import ensure_deletable
from audit.services import audit_created, audit_deleted, audit_updated
from config import ranges
from config.actors import Actor
from config.constraints import violated_constraint
from coupons.exceptions import CouponSeriesInvalidError, SettingLockedError
from coupons.issuance.validity import offer_end
from coupons.models import CouponSeries, Reminder, SeriesAllowedMember
from coupons.series.codes import CODE_RE, randomized_common_space
from coupons.series.history import series_snapshot

# Settings a third-party series refuses: it is issued and reminded elsewhere, to anyone.
THIRD_PARTY_REFUSED = (
    "max_per_member",
    "min_gap_days",
    "series_limit",
    "limit_notify_remaining",
    "exclude_window_days",
)
CODE_SETTINGS = ("code_mode", "code_length", "code_charset", "common_code", "code_prefix")


# ---------------------------------------------------------------------------------------------------
# Series


def series_create(
    *,
    actor: Actor,
    reminders=(),
    exclude_recipients_of=(),
    redemption_stores=(),
    sample_code: str | None = None,
    **fields,
) -> CouponSeries:
    series = CouponSeries(**fields)
    series.common_code = (series.common_code or "").strip().upper()
    if series.code_mode == CouponSeries.CodeMode.RANDOMIZED_COMMON:
        apply_sample_code(series, sample_code)
    series_validate(series, reminders=reminders, exclude_recipients_of=exclude_recipients_of)
    with _constraints_as_field_errors(), transaction.atomic():
        series.save()
        _save_relations(series, reminders, exclude_recipients_of, redemption_stores)
        audit_created(actor=actor, obj=series, after=series_snapshot(series))
    return series


@transaction.atomic
def series_update(
    *,
    series: CouponSeries,
    actor: Actor,
    reminders=None,
    exclude_recipients_of=None,
    redemption_stores=None,
    sample_code: str | None = None,
    **fields,
) -> CouponSeries:
    series = CouponSeries.objects.select_for_update().get(pk=series.pk)
    before = series_snapshot(series)
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
    with _constraints_as_field_errors():
        series.save()
    _save_relations(series, reminders, exclude_recipients_of, redemption_stores)
    audit_updated(actor=actor, obj=series, before=before, after=series_snapshot(series))
    return series


@transaction.atomic
def series_delete(*, series: CouponSeries, actor: Actor) -> None:
    """Delete a series that has no history yet (no coupon issued, no redemption); refused otherwise."""
    ensure_deletable(series)
    if series.coupons.exists():
        raise HistoryKeptError(f"“{series}” has coupons; revoke them instead of deleting the series.",
                               reasons=["history_kept"])  # fmt: skip
    before, pk = series_snapshot(series), series.pk
    series.delete()
    audit_deleted(actor=actor, obj=series, before=before, object_id=pk)


# The series' database constraints, as the errors of the settings they hold. `series_validate` checks all
# but the first before saving; the first (a sample code's fixed part) only the database can check, against
# every other series, concurrent ones included.
CONSTRAINT_ERRORS = {
    "coupons_couponseries_prefix_unique": (
        "The fixed part of this sample code is used by another series.",
        {"code_generation": ["The sample code's first half must be unique in the program."]},
    ),
    "coupons_couponseries_unique_length": (
        "The coupon series settings are invalid.",
        {"code_generation": ["length: 4 to 16 characters."]},
    ),
    "coupons_couponseries_common_code_set": (
        "The coupon series settings are invalid.",
        {"code_generation": ["code: 1 to 64 letters, digits or '-'."]},
    ),
    "coupons_couponseries_bill_range": (
        "The coupon series settings are invalid.",
        {"redemption": ["max_bill is below min_bill."]},
    ),
}


@contextmanager
def _constraints_as_field_errors():
    """A series constraint refusing the write becomes its settings' error; any other IntegrityError stays one."""
    try:
        yield
    except IntegrityError as exc:
        name = violated_constraint(exc, CouponSeries)
        if name not in CONSTRAINT_ERRORS:
            raise
        message, errors = CONSTRAINT_ERRORS[name]
        raise CouponSeriesInvalidError(message, errors=errors) from exc


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
    "stacking_priority": ("redemption", "stacking.priority", ranges.PRIORITY),
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


def _save_relations(series, reminders, exclude_recipients_of, redemption_stores):
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


# ---------------------------------------------------------------------------------------------------
# Capacity


# ---------------------------------------------------------------------------------------------------
# Issuing


# ---------------------------------------------------------------------------------------------------
# Status changes and members lists


def series_allow_members(*, series: CouponSeries, member_ids) -> int:
    rows = [SeriesAllowedMember(series=series, member_id=pk) for pk in member_ids]
    created = SeriesAllowedMember.objects.bulk_create(rows, ignore_conflicts=True)
    return len(created)
