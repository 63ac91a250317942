"""Reads of the audit trail: the API's list, and one object's History (audit rows and status events)."""

from dataclasses import dataclass, field
from datetime import datetime

from django.apps import apps
from django.db import models

from .models import AuditEvent
from .snapshots import object_type_for

CHANNEL_WORDS = {"admin": "Admin", "task": "Scheduled task", "cli": "Command line", "system": "System", "api": "API"}


def channel_words(channel: str) -> str:
    """`api:member_care` → "API (member care)", `admin` → "Admin"."""
    kind, _, role = channel.partition(":")
    words = CHANNEL_WORDS.get(kind, kind.capitalize())
    return f"{words} ({role.replace('_', ' ')})" if role else words


def object_type_words(object_type: str) -> str:
    """`offers.offer` → "Offer"; an unknown type is shown as it is stored."""
    try:
        model = apps.get_model(object_type)
    except (LookupError, ValueError):
        return object_type
    return str(model._meta.verbose_name).capitalize()


def audit_event_list():
    return AuditEvent.objects.order_by("-at", "-id")


def audit_events_for(obj: models.Model):
    return audit_event_list().filter(object_type=object_type_for(obj), object_id=str(obj.pk))


@dataclass(frozen=True)
class HistoryRow:
    at: datetime
    actor: str
    channel: str
    what: str
    summary: str = ""
    changes: list = field(default_factory=list)  # [(field, old, new)]

    @property
    def channel_words(self) -> str:
        return channel_words(self.channel)


def history_row_from_audit(event: AuditEvent) -> HistoryRow:
    changes = [(name.replace("_", " "), old, new) for name, (old, new) in event.changes.items()]
    return HistoryRow(event.at, event.actor, event.channel, event.get_action_display(), event.summary, changes)


def object_history(obj: models.Model, *, events=()) -> list[HistoryRow]:
    """The object's audit rows and the status `events` given (HistoryRow), newest first."""
    rows = [history_row_from_audit(event) for event in audit_events_for(obj)]
    rows.extend(events)
    return sorted(rows, key=lambda row: row.at, reverse=True)
