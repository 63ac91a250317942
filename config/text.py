"""Characters no input may carry: NUL and lone UTF-16 surrogates.

PostgreSQL refuses NUL in text (SQLite stores it), and a lone surrogate is not Unicode text at all: it
cannot be encoded as UTF-8, so it would fail the database, a CSV report or a JSON answer wherever it
reached them. Every edge that takes text (API bodies, URLs, query strings, CSV cells) refuses both with
the messages DRF's own character fields give.
"""

import re

from django.core.validators import ProhibitNullCharactersValidator
from rest_framework.validators import ProhibitSurrogateCharactersValidator

FORBIDDEN_CHARACTERS = re.compile("[\x00\ud800-\udfff]")


def forbidden_character_message(value: str) -> str | None:
    """Why `value` may not be taken, or None when it holds neither a NUL nor a lone surrogate."""
    found = FORBIDDEN_CHARACTERS.search(value)
    if found is None:
        return None
    if found.group() == "\x00":
        return str(ProhibitNullCharactersValidator.message)
    return str(ProhibitSurrogateCharactersValidator.message).format(code_point=ord(found.group()))


def printable_label(value: str) -> str:
    """`value` with every forbidden character replaced, for a report line that names bad input."""
    return FORBIDDEN_CHARACTERS.sub("\ufffd", value)


# Refusal reasons in words, for the screens member care reads (the machine code may follow in small type).
# Offer visibility has its own sentences, next to its rules (offers.rules.STATUS_EXPLANATIONS).
COUPON_REASON_SENTENCES = {
    "coupon_not_found": "No coupon has this code.",
    "time_out_of_range": "The till's clock is too far from the server's.",
    "not_issued": "The coupon has not been issued to anyone yet.",
    "not_owner": "The coupon belongs to another member.",
    "revoked": "The coupon has been revoked.",
    "expired": "The coupon has expired.",
    "already_redeemed": "The coupon has already been redeemed.",
    "redemption_not_started": "The coupon cannot be redeemed yet (its redemption period has not started).",
    "store_not_allowed": "The coupon cannot be redeemed at this store.",
    "bill_below_minimum": "The bill is below the series' minimum.",
    "bill_above_maximum": "The bill is above the series' maximum.",
    "day_of_week_not_allowed": "The coupon cannot be redeemed on this day of the week.",
    "day_of_month_not_allowed": "The coupon cannot be redeemed on this day of the month.",
    "hour_not_allowed": "The coupon cannot be redeemed at this hour.",
    "redemption_gap_not_met": "Too little time has passed since the member's last redemption of it.",
    "member_redemption_limit_reached": "The member has redeemed it as often as allowed.",
    "series_redemption_limit_reached": "The series has reached its redemption limit.",
    "not_new_member": "The coupon is for new members only.",
    "exchange_rate_missing": "No exchange rate converts the discount into the store's currency.",
    # issuing
    "member_limit_reached": "The member already holds as many coupons of this series as allowed.",
    "min_gap_not_met": "Too little time has passed since the member's last coupon of this series.",
    "series_limit_reached": "The series has issued as many coupons as allowed.",
    "generic_code_already_issued": "The member already holds this common code.",
    "member_not_allowed": "The member is not on the series' list of members.",
    "member_inactive": "The member is inactive.",
    "excluded_by_past_issual": "The member holds a coupon of a series that excludes this one.",
    "series_exhausted": "The series has no codes left.",
    # transfer and resend
    "common_code": "A common code is given to every member; it cannot be transferred.",
    "same_member": "The coupon already belongs to this member.",
    "issued": "The coupon is issued.",
    "unissued": "The coupon has not been issued to anyone yet.",
    "redeemed": "The coupon has already been redeemed.",
}

REWARD_REASON_SENTENCES = {
    "reward_inactive": "The reward is not active.",
    "member_inactive": "The member is inactive.",
    "insufficient_points": "The member does not have enough points.",
    "no_codes_available": "No unused certificate code is left for this reward or in the bank.",
}

OFFER_VISIBILITY_WORDS = {
    "visible": "Visible",
    "discontinued": "Discontinued",
    "unpublished": "Not published yet",
    "expired": "Expired",
    "global_limit": "Global limit reached",
    "member_limit": "Member's limit reached",
    "age_restricted": "Outside the age audience",
    "missing_required_segments": "Not in the required segments",
}

OFFER_ACTIVATION_WORDS = {
    "requires_activation": "Needs activating",
    "does_not_require_activation": "No activation needed",
    "activated": "Activated",
}

OFFER_ACTION_REASON_SENTENCES = {
    "activation_not_required": "The offer does not need activating.",
    "not_activated": "The offer needs activating and the member has not activated it.",
    "already_claimed": "The member already has an open response to this offer.",
    "illegal_transition": "The response cannot move to that status from where it is.",
}

POINTS_REASON_SENTENCES = {
    "insufficient_points": "The member does not have enough points.",
    "points_balance_limit": "The balance would pass its upper bound.",
    "zero_points": "An adjustment cannot be zero points.",
}


def code_as_words(code: str) -> str:
    """A code read as words, for a title: "offer_response.created" reads "Offer response created"."""
    return code.replace("_", " ").replace(".", " ").strip().capitalize()


def reason_sentence(code: str, *sentence_maps: dict[str, str]) -> str:
    """The first map's sentence for `code`; a code no map knows reads as its words ("hour_not_allowed": "Hour not
    allowed."), so a new rule never shows a blank."""
    for sentences in sentence_maps:
        if code in sentences:
            return sentences[code]
    return code.replace("_", " ").capitalize() + "."
