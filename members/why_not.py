""" "Why not?" for member care: why this member cannot use an offer, a coupon or a reward now, in words.

Each answer reads the same facts the acting services decide on (offer visibility, the coupon's redemption
rules, the reward's stock and price) and changes nothing: no guessing-guard count, no lock, no event. Every
reason keeps its machine code beside its sentence, so member care can quote either.
"""

import dataclasses
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.utils import timezone

from config.text import (
    COUPON_REASON_SENTENCES,
    OFFER_ACTION_REASON_SENTENCES,
    REWARD_REASON_SENTENCES,
    reason_sentence,
)
from coupons.models import Coupon
from coupons.redemption import rules as redemption_rules
from coupons.redemption.services import redemption_facts
from offers import rules as offer_rules
from offers.models import Offer
from offers.selectors import membership_offer_get
from rewards.models import CertificateCode, Reward

from .models import Member, OrgEntity
from .selectors import member_till_refusals

NOT_ACTIVATED = "not_activated"
POINTS_SHORT = "insufficient_points"
# Enough to say "plenty"; counting a reward's whole stock of codes is not member care's question.
CODES_COUNTED_UP_TO = 1000


@dataclass(frozen=True)
class Reason:
    code: str
    sentence: str


@dataclass(frozen=True)
class LimitLeft:
    label: str
    left: int
    of: int | None = None


@dataclass(frozen=True)
class WhyNot:
    subject: str
    reasons: list[Reason] = field(default_factory=list)
    limits: list[LimitLeft] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def can_use(self) -> bool:
        return not self.reasons


def offer_why_not(*, member: Member, offer: Offer, at: datetime | None = None) -> WhyNot:
    """The offer's visibility and eligibility for the member at `at`, and what its limits leave."""
    at = at or timezone.now()
    view = membership_offer_get(member=member, offer_id=offer.pk, at=at)
    state = view.state
    reasons = []
    if state.visible_status != offer_rules.VISIBLE:
        reasons.append(Reason(state.visible_status, offer_rules.STATUS_EXPLANATIONS[state.visible_status]))
    elif not state.eligible:
        reasons.append(Reason(NOT_ACTIVATED, reason_sentence(NOT_ACTIVATED, OFFER_ACTION_REASON_SENTENCES)))
    limits = []
    for limit in view.offer.limits.all():
        if limit.kind == offer_rules.ACTIVATION and not view.offer.requires_activation:
            continue  # an offer nobody activates never meets its activation limit
        if limit.scope == offer_rules.GLOBAL:
            used, whose = limit.used_count, "every member's"
        else:
            used = (1 if state.activated else 0) if limit.kind == offer_rules.ACTIVATION else state.fulfillment_count
            whose = "this member's"
        label = f"{limit.get_kind_display()}s, {whose}"
        limits.append(LimitLeft(label=label, left=max(limit.max_count - used, 0), of=limit.max_count))
    return WhyNot(subject=f"Offer {view.offer.name}", reasons=reasons, limits=limits)


def coupon_why_not(
    *,
    member: Member,
    coupon: Coupon,
    store: OrgEntity | None = None,
    bill_amount: Decimal | None = None,
    at: datetime | None = None,
) -> WhyNot:
    """The coupon's redemption reasons for the member at `store`, for `bill_amount`, at `at`.

    Read-only: the same facts and rules as the till's validate, without its guessing guard. The time asked
    about is member care's to choose, so the till's clock window does not apply; without a store the store,
    day and hour rules are judged in the program's time zone and store limits are left out, and without a
    bill its minimum and maximum are.
    """
    at = at or timezone.now()
    series = coupon.series
    notes, not_judged = [], set()
    if store is None:
        store = OrgEntity(type=OrgEntity.Type.STORE, code="", name="", time_zone=settings.TIME_ZONE)
        not_judged.add(redemption_rules.STORE_NOT_ALLOWED)
        notes.append(f"No store chosen: days and hours are judged in {settings.TIME_ZONE}, store limits not at all.")
    if bill_amount is None:
        not_judged |= {redemption_rules.BILL_BELOW_MINIMUM, redemption_rules.BILL_ABOVE_MAXIMUM}
        notes.append("No bill amount given: the series' minimum and maximum bill are not judged.")
        bill_amount = Decimal(0)
    facts = redemption_facts(coupon=coupon, series=series, member=member, store=store, bill_amount=bill_amount, at=at)
    facts = dataclasses.replace(facts, time_window=None)
    reasons = [
        Reason(code, reason_sentence(code, COUPON_REASON_SENTENCES))
        for code in redemption_rules.redemption_reasons(facts)
        if code not in not_judged
    ]
    limits = []
    if series.redemption_series_limit is not None:
        left = max(series.redemption_series_limit - series.redeemed_count, 0)
        limits.append(LimitLeft(label="Redemptions, the whole series", left=left, of=series.redemption_series_limit))
    if series.multi_use and series.redemption_max_per_member is not None:
        # redemption_facts counts the member's live redemptions only when a per-member rule needs them
        left = max(series.redemption_max_per_member - facts.member_redemptions, 0)
        limits.append(LimitLeft(label="Redemptions, this member", left=left, of=series.redemption_max_per_member))
    return WhyNot(subject=f"Coupon {coupon.code} ({series.name})", reasons=reasons, limits=limits, notes=notes)


def reward_why_not(*, member: Member, reward: Reward) -> WhyNot:
    """Why the member cannot redeem the reward for points now: inactive, points short, no codes left."""
    codes = [
        code
        for code, applies in (("reward_inactive", not reward.active), ("member_inactive", not member.is_active))
        if applies
    ]
    short = reward.cost_points - member.points_balance
    unused = CertificateCode.objects.filter(status=CertificateCode.Status.UNUSED)
    own_left = unused.filter(reward=reward).values("pk")[:CODES_COUNTED_UP_TO].count()
    bank_has_codes = own_left > 0 or unused.filter(reward__isnull=True).exists()
    reasons = [Reason(code, reason_sentence(code, REWARD_REASON_SENTENCES)) for code in codes]
    if short > 0:
        reasons.append(Reason(POINTS_SHORT, f"The member is {short:,} points short of its {reward.cost_points:,}."))
    if not bank_has_codes:
        reasons.append(Reason("no_codes_available", reason_sentence("no_codes_available", REWARD_REASON_SENTENCES)))
    limits = [LimitLeft(label="Points balance after redeeming", left=max(-short, 0), of=member.points_balance)]
    label = "Codes of its own left" + (f" (counted up to {CODES_COUNTED_UP_TO:,})" if own_left else "")
    limits.append(LimitLeft(label=label, left=own_left))
    return WhyNot(subject=f"Reward {reward.name}", reasons=reasons, limits=limits)


@dataclass(frozen=True)
class TillRefusalRow:
    at: datetime
    store: OrgEntity | None
    code: str
    reasons: list[Reason]


def till_refusals_why(*, member: Member, limit: int = 10) -> list[TillRefusalRow]:
    """The member's latest refused redemptions at the till, each reason in words."""
    return [
        TillRefusalRow(
            at=refusal.at,
            store=refusal.store,
            code=refusal.code,
            reasons=[Reason(code, reason_sentence(code, COUPON_REASON_SENTENCES)) for code in refusal.reasons],
        )
        for refusal in member_till_refusals(member=member, limit=limit)
    ]
