from datetime import UTC, datetime, timedelta

import pytest

from coupons.issuance import rules
from coupons.issuance.rules import IssualFacts, issual_reasons, should_resend

NOW = datetime(2026, 11, 12, 12, 0, tzinfo=UTC)


def facts(**kw):
    return IssualFacts(now=NOW, member_active=kw.pop("member_active", True), **kw)


def test_issual_reasons_empty_when_nothing_applies():
    assert issual_reasons(facts()) == []


@pytest.mark.parametrize(("held", "blocked"), [(2, False), (3, True), (4, True)])
def test_issual_member_limit_at_its_boundary(held, blocked):
    reasons = issual_reasons(facts(max_per_member=3, member_issued_count=held))
    assert (rules.MEMBER_LIMIT_REACHED in reasons) is blocked


@pytest.mark.parametrize(
    ("ago", "blocked"), [(timedelta(days=1) - timedelta(seconds=1), True), (timedelta(days=1), False)]
)
def test_issual_min_gap_at_its_boundary(ago, blocked):
    reasons = issual_reasons(facts(min_gap_days=1, member_last_issued_at=NOW - ago))
    assert (rules.MIN_GAP_NOT_MET in reasons) is blocked


def test_issual_min_gap_zero_or_first_issue_never_blocks():
    assert issual_reasons(facts(min_gap_days=0, member_last_issued_at=NOW)) == []
    assert issual_reasons(facts(min_gap_days=5, member_last_issued_at=None)) == []


@pytest.mark.parametrize(("issued", "blocked"), [(1, False), (2, True)])
def test_issual_series_limit_at_its_boundary(issued, blocked):
    assert (rules.SERIES_LIMIT_REACHED in issual_reasons(facts(series_limit=2, series_issued_count=issued))) is blocked


def test_issual_series_limit_zero_blocks_everything():
    assert issual_reasons(facts(series_limit=0)) == [rules.SERIES_LIMIT_REACHED]


def test_issual_common_code_goes_to_a_member_once():
    assert issual_reasons(facts(is_common=True, member_has_common_code=True)) == [rules.GENERIC_CODE_ALREADY_ISSUED]
    assert issual_reasons(facts(is_common=True, member_has_common_code=False)) == []


def test_issual_specific_members_only():
    assert issual_reasons(facts(specific_members_only=True, on_allowed_list=False)) == [rules.MEMBER_NOT_ALLOWED]
    assert issual_reasons(facts(specific_members_only=True, on_allowed_list=True)) == []


@pytest.mark.parametrize(("left", "blocked"), [(1, False), (0, True), (None, False)])
def test_issual_exhausted_series(left, blocked):
    assert (rules.SERIES_EXHAUSTED in issual_reasons(facts(codes_left=left))) is blocked


def test_issual_returns_every_reason_that_applies_in_order():
    reasons = issual_reasons(
        facts(
            member_active=False,
            specific_members_only=True,
            received_excluded_series_recently=True,
            is_common=True,
            member_has_common_code=True,
            max_per_member=1,
            member_issued_count=1,
            min_gap_days=2,
            member_last_issued_at=NOW,
            series_limit=1,
            series_issued_count=1,
            codes_left=0,
        )
    )
    assert reasons == list(rules.ISSUAL_REASONS)


def test_should_resend_only_for_rematch_reasons_with_a_valid_coupon():
    assert should_resend([rules.MEMBER_LIMIT_REACHED], on_rematch="resend_existing", has_valid_coupon=True)
    assert not should_resend([rules.MEMBER_LIMIT_REACHED], on_rematch="do_not_send", has_valid_coupon=True)
    assert not should_resend([rules.MEMBER_LIMIT_REACHED], on_rematch="resend_existing", has_valid_coupon=False)
    assert not should_resend(
        [rules.MEMBER_LIMIT_REACHED, rules.MEMBER_INACTIVE], on_rematch="resend_existing", has_valid_coupon=True
    )
