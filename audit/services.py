"""Writes to the audit trail. Call them inside the transaction of the change they record."""

from django.db import models

from config.actors import Actor

from .models import AuditEvent
from .snapshots import changes_between, object_type_for, snapshot

Action = AuditEvent.Action
REPR_LENGTH = AuditEvent._meta.get_field("object_repr").max_length
SUMMARY_LENGTH = AuditEvent._meta.get_field("summary").max_length


def audit_record(
    *,
    actor: Actor,
    action: str,
    obj: models.Model | None = None,
    object_type: str = "",
    object_id="",
    object_repr: str = "",
    changes: dict | None = None,
    summary: str = "",
) -> AuditEvent:
    """One audit row for `obj` (or the object named by type and id): the act, who did it and what changed."""
    if obj is not None:
        object_type = object_type or object_type_for(obj)
        object_id = object_id or obj.pk
        object_repr = object_repr or str(obj)
    return AuditEvent.objects.create(
        actor=actor.name,
        channel=actor.channel,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        object_repr=object_repr[:REPR_LENGTH],
        changes=changes or {},
        summary=summary[:SUMMARY_LENGTH],
    )


def audit_created(*, actor: Actor, obj: models.Model, after: dict | None = None, summary: str = "") -> AuditEvent:
    """A new object: every field it was given, as [None, value]."""
    after = snapshot(obj) if after is None else after
    return audit_record(actor=actor, action=Action.CREATE, obj=obj, changes=changes_between({}, after),
                        summary=summary)  # fmt: skip


def audit_updated(
    *, actor: Actor, obj: models.Model, before: dict, after: dict | None = None, summary: str = ""
) -> AuditEvent | None:
    """A changed object: only the fields that changed, as [old, new]. Nothing changed, nothing recorded."""
    after = snapshot(obj) if after is None else after
    changes = changes_between(before, after)
    if not changes:
        return None
    summary = summary or "Changed " + ", ".join(_words(name) for name in changes)
    return audit_record(actor=actor, action=Action.UPDATE, obj=obj, changes=changes, summary=summary)


def audit_deleted(
    *, actor: Actor, obj: models.Model, before: dict | None = None, object_id=None, summary: str = ""
) -> AuditEvent:
    """A deleted object, with the values it had (pass `object_id` when the delete already cleared obj.pk)."""
    before = snapshot(obj) if before is None else before
    return audit_record(
        actor=actor,
        action=Action.DELETE,
        obj=obj,
        object_id=object_id if object_id is not None else obj.pk,
        changes=changes_between(before, {}),
        summary=summary,
    )


def _words(field_name: str) -> str:
    return field_name.split("[", 1)[0].replace("_", " ").replace(".", " ")
