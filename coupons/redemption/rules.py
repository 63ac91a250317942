"""Redemption rules (seed 003, "Configuring the Redemption settings"): pure functions over plain facts."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from config.client_time import TIME_OUT_OF_RANGE, ClientTimeWindow

COUPON_NOT_FOUND = "coupon_not_found"


NOT_ISSUED = "not_issued"


NOT_OWNER = "not_owner"


REVOKED = "revoked"


EXPIRED = "expired"


ALREADY_REDEEMED = "already_redeemed"


REDEMPTION_NOT_STARTED = "redemption_not_started"


STORE_NOT_ALLOWED = "store_not_allowed"


BILL_BELOW_MINIMUM = "bill_below_minimum"


BILL_ABOVE_MAXIMUM = "bill_above_maximum"


DAY_OF_WEEK_NOT_ALLOWED = "day_of_week_not_allowed"


DAY_OF_MONTH_NOT_ALLOWED = "day_of_month_not_allowed"


HOUR_NOT_ALLOWED = "hour_not_allowed"


REDEMPTION_GAP_NOT_MET = "redemption_gap_not_met"


MEMBER_REDEMPTION_LIMIT_REACHED = "member_redemption_limit_reached"


SERIES_REDEMPTION_LIMIT_REACHED = "series_redemption_limit_reached"


NOT_NEW_MEMBER = "not_new_member"


HELD_BY_ANOTHER_CHECKOUT = "held_by_another_checkout"


@dataclass(frozen=True)
class RedemptionFacts:
    """What the redemption rules read: the coupon's state, the series' settings and the till's context.

    `local_at` is the moment of redemption in the STORE's time zone (days and hours are the store's);
    `time_window` the moments a till may state now (None: `at` is not the till's to state).
    """

    at: datetime
    local_at: datetime
    status: str
    is_owner: bool
    bill_amount: Decimal
    # series settings
    allow_anyone: bool = False
    multi_use: bool = False
    max_per_member: int | None = None
    allowed_store_ids: frozenset[int] | None = None  # None: any store
    store_lineage_ids: frozenset[int] = frozenset()
    min_bill: Decimal | None = None
    max_bill: Decimal | None = None
    days_of_week: tuple[int, ...] | None = None  # 0 = Monday
    days_of_month: tuple[int, ...] | None = None
    hours: tuple[int, ...] | None = None
    min_gap_days: int | None = None
    series_limit: int | None = None
    registered_from: date | None = None
    registered_to: date | None = None
    max_transactions: int | None = None
    # coupon and member state
    expires_at: datetime | None = None
    redeemable_from: datetime | None = None
    member_redemptions: int = 0  # this member's live (not reversed) redemptions of the coupon
    member_last_redeemed_at: datetime | None = None
    series_redeemed: int = 0
    member_registered_on: date | None = None
    member_transactions: int = 0
    time_window: ClientTimeWindow | None = None
    # a till checkout's hold (`till.checkouts`): judged against the server's clock, not the till's `at`
    held_by_checkout: int | None = None
    held_until: datetime | None = None
    checkout_id: int | None = None  # the checkout asking, whose own hold does not block it
    now: datetime | None = None


def status_reason(status: str) -> str | None:
    return {
        "unissued": NOT_ISSUED,
        "revoked": REVOKED,
        "expired": EXPIRED,
        "redeemed": ALREADY_REDEEMED,
    }.get(status)


def owner_blocks(*, is_owner: bool, allow_anyone: bool) -> bool:
    return not is_owner and not allow_anyone


def expired(at: datetime, expires_at: datetime | None) -> bool:
    """A coupon expires at the instant `expires_at` (the end of its last day)."""
    return expires_at is not None and at > expires_at


def not_started(at: datetime, redeemable_from: datetime | None) -> bool:
    return redeemable_from is not None and at < redeemable_from


def store_blocks(allowed_ids: frozenset[int] | None, store_lineage_ids: frozenset[int]) -> bool:
    """A store, or a till, inside an allowed store, zone or concept may redeem."""
    return allowed_ids is not None and allowed_ids.isdisjoint(store_lineage_ids)


def bill_reason(bill: Decimal, min_bill: Decimal | None, max_bill: Decimal | None) -> str | None:
    if min_bill is not None and bill < min_bill:
        return BILL_BELOW_MINIMUM
    if max_bill is not None and bill > max_bill:
        return BILL_ABOVE_MAXIMUM
    return None


def calendar_reasons(local_at: datetime, days_of_week, days_of_month, hours) -> list[str]:
    reasons = []
    if days_of_week is not None and local_at.weekday() not in days_of_week:
        reasons.append(DAY_OF_WEEK_NOT_ALLOWED)
    if days_of_month is not None and local_at.day not in days_of_month:
        reasons.append(DAY_OF_MONTH_NOT_ALLOWED)
    if hours is not None and local_at.hour not in hours:
        reasons.append(HOUR_NOT_ALLOWED)
    return reasons


def hold_blocks(*, held_by: int | None, held_until: datetime | None, now: datetime | None, checkout_id) -> bool:
    """Another checkout's hold blocks until it expires; a hold past `held_until` no longer counts, swept or not."""
    if held_by is None or held_until is None or held_by == checkout_id:
        return False
    return now is None or held_until > now


def gap_blocks(*, multi_use: bool, at: datetime, last_at: datetime | None, min_gap_days: int | None) -> bool:
    """The gap between a member's redemptions; a once-only coupon has no second redemption to space out."""
    if not multi_use or not min_gap_days or last_at is None:
        return False
    return at - last_at < timedelta(days=min_gap_days)


def member_limit_blocks(*, multi_use: bool, count: int, max_per_member: int | None) -> bool:
    return multi_use and max_per_member is not None and count >= max_per_member


def series_limit_blocks(redeemed: int, limit: int | None) -> bool:
    return limit is not None and redeemed >= limit


def new_member_blocks(
    *, registered_on: date | None, registered_from, registered_to, transactions: int, max_transactions
) -> bool:
    if registered_from is not None and (registered_on is None or registered_on < registered_from):
        return True
    if registered_to is not None and (registered_on is None or registered_on > registered_to):
        return True
    return max_transactions is not None and transactions > max_transactions


def redemption_reasons(facts: RedemptionFacts | None) -> list[str]:
    """Every rule that forbids this redemption, in a fixed order; an empty list means it may go ahead."""
    if facts is None:
        return [COUPON_NOT_FOUND]
    reasons = []
    if facts.time_window is not None and not facts.time_window.contains(facts.at):
        reasons.append(TIME_OUT_OF_RANGE)
    state = status_reason(facts.status)
    if state == ALREADY_REDEEMED and facts.multi_use:
        state = None  # a multi-use coupon stays issued; a legacy redeemed row still counts as redeemed
    if state:
        reasons.append(state)
    if state != EXPIRED and expired(facts.at, facts.expires_at):
        reasons.append(EXPIRED)
    if hold_blocks(held_by=facts.held_by_checkout, held_until=facts.held_until, now=facts.now,
                   checkout_id=facts.checkout_id):  # fmt: skip
        reasons.append(HELD_BY_ANOTHER_CHECKOUT)
    if owner_blocks(is_owner=facts.is_owner, allow_anyone=facts.allow_anyone):
        reasons.append(NOT_OWNER)
    if not_started(facts.at, facts.redeemable_from):
        reasons.append(REDEMPTION_NOT_STARTED)
    if store_blocks(facts.allowed_store_ids, facts.store_lineage_ids):
        reasons.append(STORE_NOT_ALLOWED)
    bill = bill_reason(facts.bill_amount, facts.min_bill, facts.max_bill)
    if bill:
        reasons.append(bill)
    reasons += calendar_reasons(facts.local_at, facts.days_of_week, facts.days_of_month, facts.hours)
    if gap_blocks(
        multi_use=facts.multi_use, at=facts.at, last_at=facts.member_last_redeemed_at, min_gap_days=facts.min_gap_days
    ):
        reasons.append(REDEMPTION_GAP_NOT_MET)
    if member_limit_blocks(
        multi_use=facts.multi_use, count=facts.member_redemptions, max_per_member=facts.max_per_member
    ):
        reasons.append(MEMBER_REDEMPTION_LIMIT_REACHED)
    if series_limit_blocks(facts.series_redeemed, facts.series_limit):
        reasons.append(SERIES_REDEMPTION_LIMIT_REACHED)
    if new_member_blocks(
        registered_on=facts.member_registered_on,
        registered_from=facts.registered_from,
        registered_to=facts.registered_to,
        transactions=facts.member_transactions,
        max_transactions=facts.max_transactions,
    ):
        reasons.append(NOT_NEW_MEMBER)
    return reasons


def discount_amount(*, discount_type: str, value: Decimal, bill_amount: Decimal, rate: Decimal = Decimal(1)) -> Decimal:
    """The discount at the till, in the store's currency, never more than the bill."""
    amount = bill_amount * value / Decimal(100) if discount_type == "percentage" else value * rate
    return min(amount, bill_amount).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
