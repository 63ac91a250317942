"""Issual rules (seed 003) as pure functions over plain values: cheap to test at every boundary.

`issual_reasons` returns every reason that forbids issuing, in a fixed order, so a caller (API,
upload report, bulk job) can show them all at once.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

# The reason for an `at` a till may not state, shared with every path that takes a client's time.

MEMBER_LIMIT_REACHED = "member_limit_reached"
MIN_GAP_NOT_MET = "min_gap_not_met"
SERIES_LIMIT_REACHED = "series_limit_reached"
GENERIC_CODE_ALREADY_ISSUED = "generic_code_already_issued"
MEMBER_NOT_ALLOWED = "member_not_allowed"
MEMBER_INACTIVE = "member_inactive"
EXCLUDED_BY_PAST_ISSUAL = "excluded_by_past_issual"
SERIES_EXHAUSTED = "series_exhausted"

ISSUAL_REASONS = (
    MEMBER_INACTIVE,
    MEMBER_NOT_ALLOWED,
    EXCLUDED_BY_PAST_ISSUAL,
    GENERIC_CODE_ALREADY_ISSUED,
    MEMBER_LIMIT_REACHED,
    MIN_GAP_NOT_MET,
    SERIES_LIMIT_REACHED,
    SERIES_EXHAUSTED,
)

# Reasons about this member having had the series already: "if a customer matches the criteria again"
# the series either resends the member's existing valid coupon or sends nothing.
REMATCH_REASONS = frozenset({MEMBER_LIMIT_REACHED, MIN_GAP_NOT_MET, GENERIC_CODE_ALREADY_ISSUED})


@dataclass(frozen=True)
class IssualFacts:
    now: datetime
    member_active: bool
    # series settings
    is_common: bool = False
    specific_members_only: bool = False
    max_per_member: int | None = None
    min_gap_days: int | None = None
    series_limit: int | None = None
    # state
    on_allowed_list: bool = False
    member_issued_count: int = 0  # coupons of this series the member holds or held (revoked ones excluded)
    member_last_issued_at: datetime | None = None
    member_has_common_code: bool = False
    received_excluded_series_recently: bool = False
    series_issued_count: int = 0
    codes_left: int | None = None  # None: the series cannot run out of codes


def issual_reasons(facts: IssualFacts) -> list[str]:
    reasons = []
    if not facts.member_active:
        reasons.append(MEMBER_INACTIVE)
    if facts.specific_members_only and not facts.on_allowed_list:
        reasons.append(MEMBER_NOT_ALLOWED)
    if facts.received_excluded_series_recently:
        reasons.append(EXCLUDED_BY_PAST_ISSUAL)
    if facts.is_common and facts.member_has_common_code:
        reasons.append(GENERIC_CODE_ALREADY_ISSUED)
    if facts.max_per_member is not None and facts.member_issued_count >= facts.max_per_member:
        reasons.append(MEMBER_LIMIT_REACHED)
    if min_gap_blocks(facts.now, facts.member_last_issued_at, facts.min_gap_days):
        reasons.append(MIN_GAP_NOT_MET)
    if facts.series_limit is not None and facts.series_issued_count >= facts.series_limit:
        reasons.append(SERIES_LIMIT_REACHED)
    if facts.codes_left is not None and facts.codes_left <= 0:
        reasons.append(SERIES_EXHAUSTED)
    return reasons


def min_gap_blocks(now: datetime, last_issued_at: datetime | None, min_gap_days: int | None) -> bool:
    """A gap of N days means the next coupon comes N full days after the last one, no sooner."""
    if not min_gap_days or last_issued_at is None:
        return False
    return now - last_issued_at < timedelta(days=min_gap_days)


def should_resend(reasons: list[str], *, on_rematch: str, has_valid_coupon: bool) -> bool:
    """Resend the member's existing valid coupon instead of refusing, when only rematch reasons apply."""
    return bool(reasons) and on_rematch == "resend_existing" and has_valid_coupon and set(reasons) <= REMATCH_REASONS


# ---------------------------------------------------------------------------------------------------
# Redemption rules (seed 003, "Configuring the Redemption settings")
