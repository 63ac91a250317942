"""Visibility, eligibility, activation and earning rules for offers (seed 001), over plain values.

Nothing here touches the database: selectors and services gather the facts, these functions decide.

Decisions where the seed is silent (see docs/offers.md):
- `publish_at` is inclusive (published from that instant on), `expire_at` exclusive (expired at that
  instant); `discontinued_at` takes effect at its instant too.
- Global statuses are checked in the seed's order: discontinued, unpublished, expired, global_limit;
  then the per-member ones: member_limit, age_restricted, missing_required_segments.
- Age is counted in whole years on the member's local date; the birthday itself counts. A member
  without a birth date is outside every age audience. Every audience must match (all age ranges,
  all required segments).
- An activation limit stops new activations; a member who has already activated keeps the offer.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_FLOOR, Decimal

VISIBLE = "visible"
DISCONTINUED = "discontinued"
UNPUBLISHED = "unpublished"
EXPIRED = "expired"
GLOBAL_LIMIT = "global_limit"
MEMBER_LIMIT = "member_limit"
AGE_RESTRICTED = "age_restricted"
MISSING_REQUIRED_SEGMENTS = "missing_required_segments"

GLOBAL_STATUSES = (VISIBLE, DISCONTINUED, UNPUBLISHED, EXPIRED, GLOBAL_LIMIT)
MEMBER_STATUSES = (*GLOBAL_STATUSES, MEMBER_LIMIT, AGE_RESTRICTED, MISSING_REQUIRED_SEGMENTS)

REQUIRES_ACTIVATION = "requires_activation"
DOES_NOT_REQUIRE_ACTIVATION = "does_not_require_activation"
ACTIVATED = "activated"
GLOBAL_ACTIVATION_STATUSES = (REQUIRES_ACTIVATION, DOES_NOT_REQUIRE_ACTIVATION)
MEMBER_ACTIVATION_STATUSES = (*GLOBAL_ACTIVATION_STATUSES, ACTIVATED)

FULFILLMENT = "fulfillment"
ACTIVATION = "activation"
GLOBAL = "global"
MEMBER = "member"

STATUS_EXPLANATIONS = {
    VISIBLE: "Visible.",
    DISCONTINUED: "The offer has been discontinued.",
    UNPUBLISHED: "The offer is not published yet (publish date in the future).",
    EXPIRED: "The offer has expired.",
    GLOBAL_LIMIT: "The offer has reached a global limit.",
    MEMBER_LIMIT: "The member has reached a per-member limit.",
    AGE_RESTRICTED: "The member's age is outside the offer's age audience.",
    MISSING_REQUIRED_SEGMENTS: "The member is not in every segment the offer requires.",
}


@dataclass(frozen=True)
class LimitFacts:
    scope: str  # global | member
    kind: str  # fulfillment | activation
    max_count: int
    used_count: int = 0  # running total, global limits only


@dataclass(frozen=True)
class OfferFacts:
    requires_activation: bool = False
    publish_at: datetime | None = None
    expire_at: datetime | None = None
    discontinued_at: datetime | None = None
    limits: tuple[LimitFacts, ...] = ()
    age_ranges: tuple[tuple[int | None, int | None], ...] = ()
    required_segment_ids: frozenset[int] = field(default_factory=frozenset)


@dataclass(frozen=True)
class MemberFacts:
    birth_date: date | None = None
    segment_ids: frozenset[int] = field(default_factory=frozenset)
    activated: bool = False
    activation_count: int = 0
    fulfillment_count: int = 0


@dataclass(frozen=True)
class MembershipOfferState:
    visible_status: str
    eligible: bool
    activation_status: str
    must_activate: bool
    activated: bool | None
    fulfillment_count: int

    @property
    def reason(self) -> str:
        """Why the member cannot engage with the offer now ("" when eligible)."""
        if self.visible_status != VISIBLE:
            return STATUS_EXPLANATIONS[self.visible_status]
        if not self.eligible:
            return "The offer requires activation and the member has not activated it."
        return ""


def global_visible_status(offer: OfferFacts, *, at: datetime, activated: bool = False) -> str:
    """The status every member shares. `activated` exempts a member from a reached activation limit."""
    if offer.discontinued_at is not None and offer.discontinued_at <= at:
        return DISCONTINUED
    if offer.publish_at is not None and at < offer.publish_at:
        return UNPUBLISHED
    if offer.expire_at is not None and at >= offer.expire_at:
        return EXPIRED
    if any(_limit_reached(limit, offer, activated=activated) for limit in offer.limits if limit.scope == GLOBAL):
        return GLOBAL_LIMIT
    return VISIBLE


def member_visible_status(offer: OfferFacts, member: MemberFacts, *, at: datetime, today: date) -> str:
    """Per-member status: a global status always wins, then the seed's per-member order."""
    status = global_visible_status(offer, at=at, activated=member.activated)
    if status != VISIBLE:
        return status
    if any(_member_limit_reached(limit, offer, member) for limit in offer.limits if limit.scope == MEMBER):
        return MEMBER_LIMIT
    if offer.age_ranges and not all(age_in_range(member.birth_date, today, lo, hi) for lo, hi in offer.age_ranges):
        return AGE_RESTRICTED
    if not offer.required_segment_ids <= member.segment_ids:
        return MISSING_REQUIRED_SEGMENTS
    return VISIBLE


def _limit_reached(limit: LimitFacts, offer: OfferFacts, *, activated: bool) -> bool:
    if limit.kind == ACTIVATION and (not offer.requires_activation or activated):
        return False
    return limit.used_count >= limit.max_count


def _member_limit_reached(limit: LimitFacts, offer: OfferFacts, member: MemberFacts) -> bool:
    if limit.kind == ACTIVATION:
        if not offer.requires_activation or member.activated:
            return False
        return member.activation_count >= limit.max_count
    return member.fulfillment_count >= limit.max_count


def age_on(birth_date: date, today: date) -> int:
    """Whole years; a member turns N on their birthday (29 February birthdays on 1 March)."""
    return today.year - birth_date.year - ((today.month, today.day) < (birth_date.month, birth_date.day))


def age_in_range(birth_date: date | None, today: date, min_age: int | None, max_age: int | None) -> bool:
    if birth_date is None:
        return False
    age = age_on(birth_date, today)
    return (min_age is None or age >= min_age) and (max_age is None or age <= max_age)


def activation_status(*, requires_activation: bool, activated: bool | None = None) -> str:
    if not requires_activation:
        return DOES_NOT_REQUIRE_ACTIVATION
    return ACTIVATED if activated else REQUIRES_ACTIVATION


def is_eligible(*, visible_status: str, requires_activation: bool, activated: bool) -> bool:
    return visible_status == VISIBLE and (not requires_activation or activated)


def activated_flag(*, requires_activation: bool, activated: bool) -> bool | None:
    """The deprecated `activated` field: null when the offer does not require activation."""
    return bool(activated) if requires_activation else None


def member_eligible(offer: OfferFacts, member: MemberFacts, *, at: datetime, today: date) -> bool:
    """`membership_offer_state(...).eligible` alone, for a caller that needs nothing else (earning a basket)."""
    status = member_visible_status(offer, member, at=at, today=today)
    return is_eligible(visible_status=status, requires_activation=offer.requires_activation, activated=member.activated)


def membership_offer_state(
    offer: OfferFacts, member: MemberFacts, *, at: datetime, today: date
) -> MembershipOfferState:
    status = member_visible_status(offer, member, at=at, today=today)
    activated = offer.requires_activation and member.activated
    return MembershipOfferState(
        visible_status=status,
        eligible=is_eligible(
            visible_status=status, requires_activation=offer.requires_activation, activated=member.activated
        ),
        activation_status=activation_status(requires_activation=offer.requires_activation, activated=activated),
        must_activate=offer.requires_activation,
        activated=activated_flag(requires_activation=offer.requires_activation, activated=member.activated),
        fulfillment_count=member.fulfillment_count,
    )


# Earning -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EarningFacts:
    behavior_type: str  # purchase_product | spend
    award_type: str  # points | points_per_unit
    sku: str = ""
    min_quantity: int | None = None
    min_amount: Decimal | None = None
    points: int | None = None
    points_per_unit: int | None = None


@dataclass(frozen=True)
class BasketItem:
    sku: str
    quantity: int
    unit_price: Decimal


def basket_units(items: tuple[BasketItem, ...]) -> dict[str, int]:
    """The basket's quantity of each SKU."""
    units: dict[str, int] = {}
    for item in items:
        units[item.sku] = units.get(item.sku, 0) + item.quantity
    return units


def earned_points(
    mechanism: EarningFacts,
    *,
    total_amount: Decimal,
    items: tuple[BasketItem, ...] = (),
    units_by_sku: Mapping[str, int] | None = None,
) -> int:
    """Points the basket earns under this mechanism; 0 when the behaviour is not met.

    purchase_product: the basket holds at least `min_quantity` (default 1) of `sku`; per-unit awards
    count those units. spend: `total_amount` reaches `min_amount`; per-unit awards count whole
    currency units of the total. `units_by_sku` is `basket_units(items)`, for a caller judging many
    mechanisms against one basket.
    """
    if mechanism.behavior_type == "purchase_product":
        if units_by_sku is None:
            units_by_sku = basket_units(items)
        units = units_by_sku.get(mechanism.sku, 0)
        if units <= 0 or units < (mechanism.min_quantity or 1):
            return 0
    elif mechanism.behavior_type == "spend":
        if total_amount <= 0 or total_amount < (mechanism.min_amount or Decimal("0")):
            return 0
        units = int(total_amount.to_integral_value(rounding=ROUND_FLOOR))
    else:
        return 0
    if mechanism.award_type == "points":
        return mechanism.points or 0
    if mechanism.award_type == "points_per_unit":
        return (mechanism.points_per_unit or 0) * units
    return 0
