"""Pure rules for certificate codes: the status transition table and the shape of generated codes."""

import re
import string

from config import ranges

UNUSED, RESERVED, REDEEMED, AWARDED, FULFILLED = "unused", "reserved", "redeemed", "awarded", "fulfilled"

# The one table of allowed status moves. Fulfilled is final; nothing goes back to unused.
CODE_TRANSITIONS: dict[str, frozenset[str]] = {
    UNUSED: frozenset({RESERVED, REDEEMED, AWARDED}),
    RESERVED: frozenset({REDEEMED, AWARDED}),
    REDEEMED: frozenset({FULFILLED}),
    AWARDED: frozenset({FULFILLED}),
    FULFILLED: frozenset(),
}


def code_transition_allowed(old: str, new: str) -> bool:
    return new in CODE_TRANSITIONS.get(old, frozenset())


def code_status_for(*, kind: str, member_known: bool) -> str:
    """The status a code takes when it goes to a redemption of this kind."""
    if not member_known:
        return RESERVED
    return AWARDED if kind == "award" else REDEEMED


CHARSETS: dict[str, str] = {
    "numeric": string.digits,
    "alphanumeric": string.ascii_uppercase + string.digits,
    # No 0/O, 1/I/L: codes read aloud or typed from a receipt.
    "unambiguous": "23456789ABCDEFGHJKMNPQRSTUVWXYZ",
}
LENGTH = ranges.CERTIFICATE_CODE_LENGTH
COUNT = ranges.CERTIFICATE_CODES_PER_REQUEST
# Live codes must stay a tiny fraction of the space, so a guessed code is almost never valid and
# random draws rarely collide.
SPACE_FACTOR = 1000

# What an imported or generated code may look like.
CODE_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{3,63}$")


def code_generation_problems(*, count: int, length: int, charset: str) -> dict[str, list[str]]:
    """Field → messages for a generation request that cannot be honoured; empty when it can."""
    errors: dict[str, list[str]] = {}
    if count not in COUNT:
        errors["count"] = [f"Generate between {COUNT.min} and {COUNT.max:,} codes at a time."]
    if length not in LENGTH:
        errors["length"] = [f"Length must be between {LENGTH.min} and {LENGTH.max}."]
    if charset not in CHARSETS:
        errors["charset"] = [f"Charset must be one of {', '.join(sorted(CHARSETS))}."]
    if errors:
        return errors
    space = len(CHARSETS[charset]) ** length
    if space < count * SPACE_FACTOR:
        errors["length"] = [
            f"{count:,} codes of {length} {charset} characters would fill more than 1/{SPACE_FACTOR} of the "
            f"{space:,} possible codes; use a longer code or a larger charset."
        ]
    return errors


def code_is_well_formed(code: str) -> bool:
    return bool(CODE_PATTERN.match(code))
