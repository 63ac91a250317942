"""Refuse up front a delete that would reach append-only rows, with words instead of a database error.

A delete cascades into an object's events, or is stopped by its ledger lines and redemptions; on PostgreSQL
the append-only triggers would refuse it mid-way (a 500). These checks ask first, one EXISTS per path.
"""

from django.db import models

from .exceptions import HistoryKeptError
from .triggers import is_append_only

MAX_DEPTH = 3  # cascades deeper than this do not occur in the product


def _history_paths(model, prefix: str = "", depth: int = 0):
    """(append-only model, lookup back to `model`) for each relation a delete of `model` would reach."""
    for relation in model._meta.related_objects:
        if relation.many_to_many or not relation.field.concrete:
            continue
        lookup = relation.field.name + (f"__{prefix}" if prefix else "")
        related = relation.related_model
        if is_append_only(related):
            yield related, lookup
        elif relation.on_delete is models.CASCADE and depth < MAX_DEPTH:
            yield from _history_paths(related, lookup, depth + 1)


def delete_refusal(obj: models.Model) -> str | None:
    """Why `obj` may not be deleted (its history is kept), or None when it may."""
    kept = []
    for related, lookup in _history_paths(type(obj)):
        if related._default_manager.filter(**{lookup: obj.pk}).exists():
            name = str(related._meta.verbose_name_plural)
            if name not in kept:
                kept.append(name)
    if not kept:
        return None
    return f"“{obj}” cannot be deleted: its history ({', '.join(kept)}) is kept for good."


def ensure_deletable(obj: models.Model) -> None:
    """Raise HistoryKeptError (409) when deleting `obj` would remove history."""
    if (refusal := delete_refusal(obj)) is not None:
        raise HistoryKeptError(refusal, reasons=["history_kept"])
