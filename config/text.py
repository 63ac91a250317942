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
