"""The offer response lifecycle as pure functions over plain values (seed 000, API contract).

One table of moves; some moves also depend on the offer's kind (opt-in, shipping flow).
"""

from datetime import datetime

PENDING, CLIPPED, PROCESSING, SHIPPING = "pending", "clipped", "processing", "shipping"
COMPLETED, CANCELED, EXPIRED = "completed", "canceled", "expired"
STATUSES = (PENDING, CLIPPED, PROCESSING, SHIPPING, COMPLETED, CANCELED, EXPIRED)
OPEN = (PENDING, CLIPPED, PROCESSING, SHIPPING)
FINAL = (COMPLETED, CANCELED, EXPIRED)

# from → {to: condition on the offer}; "any" means the move is allowed for every offer.
OPT_IN, SHIPPING_FLOW, NOT_OPT_IN, ANY = "opt_in", "shipping_flow", "not_opt_in", "any"
TRANSITIONS: dict[str, dict[str, str]] = {
    PENDING: {CLIPPED: OPT_IN, PROCESSING: SHIPPING_FLOW, COMPLETED: NOT_OPT_IN, CANCELED: ANY, EXPIRED: ANY},
    CLIPPED: {COMPLETED: ANY, CANCELED: ANY, EXPIRED: ANY},
    PROCESSING: {SHIPPING: ANY, CANCELED: ANY, EXPIRED: ANY},
    SHIPPING: {COMPLETED: ANY, CANCELED: ANY, EXPIRED: ANY},
    COMPLETED: {},
    CANCELED: {},
    EXPIRED: {},
}


def transition_allowed(from_status: str, to_status: str, *, requires_activation: bool, fulfillment_flow: str) -> bool:
    condition = TRANSITIONS.get(from_status, {}).get(to_status)
    if condition is None:
        return False
    if condition == OPT_IN:
        return requires_activation
    if condition == SHIPPING_FLOW:
        return fulfillment_flow == "shipping"
    if condition == NOT_OPT_IN:
        return not requires_activation
    return True


# Usage period indicator values, as the admin and the API show them.
USAGE_ALWAYS, USAGE_ACTIVE, USAGE_UPCOMING, USAGE_PASSED = "always", "active", "upcoming", "passed"


def usage_period_state(usage_start: datetime | None, usage_end: datetime | None, *, at: datetime) -> str:
    if usage_start is None and usage_end is None:
        return USAGE_ALWAYS
    if usage_end is not None and usage_end <= at:
        return USAGE_PASSED
    if usage_start is not None and usage_start > at:
        return USAGE_UPCOMING
    return USAGE_ACTIVE


def usage_period_active(usage_start: datetime | None, usage_end: datetime | None, *, at: datetime) -> bool:
    return usage_period_state(usage_start, usage_end, at=at) in (USAGE_ALWAYS, USAGE_ACTIVE)


def response_expires_at(*, usage_end: datetime | None, expire_at: datetime | None) -> datetime | None:
    """A response can be used until the offer's usage period ends; without one, until the offer expires."""
    return usage_end if usage_end is not None else expire_at


def initial_status(*, requires_activation: bool, activated: bool) -> str:
    """Opt-in offers start pending until the member activates (clips) them; a member who activated already
    gets the new response clipped, since activation happens once per member and offer."""
    return CLIPPED if requires_activation and activated else PENDING
