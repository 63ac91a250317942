"""What the audit trail keeps of an object: its type name, and its field values as JSON-safe text."""

import datetime
import uuid
from decimal import Decimal

from django.db import models

# Touched by every save, so never a change anyone made.
NOISE_FIELDS = frozenset({"updated_at"})


def object_type_for(model_or_obj) -> str:
    """`app_label.model`, as the API filter takes it (`coupons.couponseries`)."""
    return model_or_obj._meta.label_lower


def json_safe(value):
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, datetime.timedelta):
        return str(value)
    if isinstance(value, dict):
        return {str(key): json_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = [json_safe(item) for item in value]
        return sorted(items, key=str) if isinstance(value, set | frozenset) else items
    if hasattr(value, "name") and hasattr(value, "url"):  # a stored file
        return value.name or ""
    return value


def snapshot(obj: models.Model, *, fields=None, exclude=()) -> dict:
    """The object's set-up values: concrete fields (a foreign key as its id) and many-to-many fields (sorted ids).

    Left out unless named in `fields`: fields nobody edits (`editable=False`: counters, balances, token hashes,
    kept by services that record their own acts), `auto_now` stamps, and many-to-many fields with a through model
    of their own (lists a service manages, such as a series' allowed members, possibly millions of rows).
    """
    skipped = NOISE_FIELDS | set(exclude)

    def wanted(field) -> bool:
        if field.name in skipped:
            return False
        if fields is not None:
            return field.name in fields
        return field.editable and not getattr(field, "auto_now", False)

    values = {}
    for field in obj._meta.concrete_fields:
        if not field.primary_key and wanted(field):
            values[field.name] = json_safe(_as_stored(field, field.value_from_object(obj)))
    if obj.pk is not None:
        for field in obj._meta.many_to_many:
            if wanted(field) and (fields is not None or field.remote_field.through._meta.auto_created):
                ids = getattr(obj, field.name).values_list("pk", flat=True)
                values[field.name] = sorted(json_safe(pk) for pk in ids)
    return values


def _as_stored(field, value):
    """A decimal as its column keeps it, so a form's 0.93 and the row's 0.93000000 are the same value."""
    if isinstance(field, models.DecimalField) and value is not None:
        return Decimal(value).quantize(Decimal(1).scaleb(-field.decimal_places))
    return value


def prefixed(prefix: str, values: dict) -> dict:
    """A part's snapshot inside its owner's: `limits[global fulfillment]` + `max_count` → `limits[…].max_count`."""
    return {f"{prefix}.{name}": value for name, value in values.items()}


def changes_between(before: dict, after: dict) -> dict:
    """field → [old, new] for the fields whose value differs; a field only on one side has None on the other."""
    return {
        name: [before.get(name), after.get(name)]
        for name in sorted(set(before) | set(after))
        if before.get(name) != after.get(name)
    }
