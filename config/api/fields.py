"""Serializer fields every API input shares."""

from datetime import datetime

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from rest_framework import serializers
from rest_framework.settings import ISO_8601


class AwareDateTimeField(serializers.DateTimeField):
    """An ISO 8601 timestamp with its UTC offset (`Z` or `±HH:MM`), as the API contract says.

    DRF would read a timestamp without an offset in the server's time zone: a till in another zone would
    redeem or record at a time it never meant. Every API input timestamp uses this field, the lean till
    path included (it runs the serializers' field definitions).
    """

    default_error_messages = {
        "offset_required": "Datetime needs a UTC offset (ISO 8601, e.g. 2026-05-01T09:30:00+02:00 or …Z).",
    }

    def __init__(self, **kwargs):
        kwargs.setdefault("input_formats", [ISO_8601])
        super().__init__(**kwargs)

    def to_internal_value(self, value):
        parsed = value
        if isinstance(value, str):
            try:
                parsed = parse_datetime(value)
            except ValueError:
                parsed = None  # DRF's own parsing below answers `invalid`
        if isinstance(parsed, datetime) and timezone.is_naive(parsed):
            self.fail("offset_required")
        return super().to_internal_value(value)
