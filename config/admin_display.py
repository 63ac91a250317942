"""How the back office shows a time, a status or a code to people: in the program's zone with the zone named, and in
words, with the machine code (where one helps) after them in small type.

The formats themselves live in config/formats (every list, read-only field and template uses them); these are the
same formatters for text built in Python.
"""

from datetime import datetime

from django.utils import formats, timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString


def datetime_in_zone(value: datetime | None, empty: str = "—") -> str:
    """`value` in the program's time zone with the zone's name: "3 Dec 2026, 09:14 CET"."""
    if value is None:
        return empty
    return formats.date_format(timezone.localtime(value), "DATETIME_FORMAT")


def code_words(code: str) -> str:
    """Words for a code no map knows: "hour_not_allowed" reads "Hour not allowed"."""
    return str(code).replace("_", " ").replace(".", " ").strip().capitalize()


def words_with_code(words: str, code: str | None) -> SafeString:
    """The words, then the machine code in small type (left out when it says nothing the words do not)."""
    if not code or str(code) == str(words):
        return format_html("{}", words)
    return format_html('{} <small class="machine-code">{}</small>', words, code)
