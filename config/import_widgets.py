"""django-import-export widgets shared by every app's Resources."""

from django.utils import timezone
from django.utils.dateparse import parse_datetime
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
