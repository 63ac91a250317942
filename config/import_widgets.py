"""django-import-export widgets shared by every app's Resources."""

from decimal import Decimal, InvalidOperation

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.formats import sanitize_separators
from import_export import widgets


class IsoDateTimeWidget(widgets.DateTimeWidget):
    """Reads ISO 8601 timestamps (`2024-01-01T09:30:00Z`, `…+02:00`) and writes them back the same way."""

    def clean(self, value, row=None, **kwargs):
        if value in (None, ""):
            return None
        if not isinstance(value, str):
            return super().clean(value, row, **kwargs)
        parsed = parse_datetime(value.strip())
        if parsed is None:
            return super().clean(value, row, **kwargs)
        return parsed if timezone.is_aware(parsed) else timezone.make_aware(parsed)

    def render(self, value, obj=None, **kwargs):
        return value.isoformat() if value else ""


class WholeNumberWidget(widgets.IntegerWidget):
    """An integer cell read as written: `12` or `12.0`, never `1.5` quietly read as 1, nor `inf` or `1e400`.

    The column's range is the model field's validators' business (`clean_model_instances`); this only
    refuses what is not a whole number, as a row error naming the column.
    """

    # More digits than any 64-bit integer has: refused before Python builds the number.
    MAX_DIGITS = 19

    def clean(self, value, row=None, **kwargs):
        if self.is_empty(value):
            return None
        try:
            number = Decimal(sanitize_separators(str(value).strip()))
        except InvalidOperation as exc:
            raise ValueError(f"{value!r} is not a whole number.") from exc
        if not number.is_finite() or number != number.to_integral_value() or number.adjusted() >= self.MAX_DIGITS:
            raise ValueError(f"{value!r} is not a whole number of at most {self.MAX_DIGITS} digits.")
        return int(number)
