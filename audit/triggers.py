"""Append-only tables: PostgreSQL triggers (django-pgtrigger) that refuse UPDATE and DELETE.

Row-level triggers do not fire on TRUNCATE, which only the test suite's flush uses. On SQLite no trigger
is installed (pgtrigger skips other databases); the admin's missing permissions still hold there.
"""

import pgtrigger

APPEND_ONLY_DELETE = "append_only_delete"
APPEND_ONLY_UPDATE = "append_only_update"


class UnlessOnly(pgtrigger.Condition):
    """True for every UPDATE except the one allowed move: `move` holds and no column outside `changing` changes."""

    def __init__(self, *, move: pgtrigger.Q, changing: tuple[str, ...]):
        self.move = move
        self.changing = changing
        self.sql = None

    def resolve(self, model) -> str:
        unchanged = pgtrigger.AllDontChange(exclude=list(self.changing)).resolve(model)
        return f"NOT (({self.move.resolve(model)}) AND ({unchanged}))"


def append_only(*, allowed_update: UnlessOnly | None = None) -> list[pgtrigger.Trigger]:
    """The triggers for a model's Meta.triggers: no DELETE, no UPDATE (but `allowed_update`, when given)."""
    return [
        pgtrigger.Protect(name=APPEND_ONLY_DELETE, operation=pgtrigger.Delete),
        pgtrigger.Protect(name=APPEND_ONLY_UPDATE, operation=pgtrigger.Update, condition=allowed_update),
    ]


def is_append_only(model) -> bool:
    return any(trigger.name == APPEND_ONLY_DELETE for trigger in getattr(model._meta, "triggers", ()))
