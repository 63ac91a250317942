"""The one writer of a checkout's status, its transition table and its event."""

from datetime import datetime
from functools import cache

from django.db import connection, transaction
from django.utils import timezone

from config.actors import Actor
from config.status import status_move_many
from till.checkouts.exceptions import CheckoutTransitionError
from till.checkouts.models import Checkout, CheckoutEvent

Status = Checkout.Status

# A checkout is held until it is committed (paid), canceled (voided before payment) or its holds lapse.
TRANSITIONS: dict[str, set[str]] = {
    Status.HELD: {Status.COMMITTED, Status.CANCELED, Status.EXPIRED},
    Status.COMMITTED: set(),
    Status.CANCELED: set(),
    Status.EXPIRED: set(),
}


def transition_check(old: str, to: str) -> None:
    if to not in TRANSITIONS.get(old, set()):
        raise CheckoutTransitionError(f"A {old} checkout cannot be {to}.", reasons=[old])


def checkout_event(checkout_id: int, *, old: str, new: str, actor: Actor, reason: str = "", at: datetime):
    return CheckoutEvent(
        checkout_id=checkout_id,
        old_status=old,
        new_status=new,
        actor=actor.name[:100],
        channel=actor.channel[:30],
        reason=reason[:255],
        at=at,
    )


def checkout_transition(*, checkout: Checkout, to: str, actor: Actor, reason: str = "", at=None, **changes) -> None:
    """Move one checkout from the status it was read in (compare-and-swap), with its event.

    The callers (commit, cancel) hold the checkout's row lock, so the swap cannot be lost to another writer:
    the move and its event need no savepoint of their own, and a failure rolls the caller's transaction back.
    On PostgreSQL the move and its event are one statement."""
    old = checkout.status
    transition_check(old, to)
    at = at or timezone.now()
    changes = {"status_changed_at": at, **changes}
    event = checkout_event(checkout.pk, old=old, new=to, actor=actor, reason=reason, at=at)
    if connection.vendor == "postgresql":
        moved = _move_with_event(pk=checkout.pk, old=old, to=to, changes=changes, event=event)
    else:
        with transaction.atomic(savepoint=False):
            moved = Checkout.objects.filter(pk=checkout.pk, status=old).update(status=to, **changes)
            if moved:
                event.save(force_insert=True)
    if not moved:
        checkout.refresh_from_db(fields=["status"])
        raise CheckoutTransitionError(f"The checkout is {checkout.status} now.", reasons=[checkout.status])
    checkout.status = to
    for name, value in changes.items():
        setattr(checkout, name, value)


# Every event column but the key and the checkout (the moved row's id), in the model's order.
_EVENT_FIELDS = [
    field for field in CheckoutEvent._meta.concrete_fields if not field.primary_key and field.name != "checkout"
]


def typed_placeholders(fields) -> str:
    """One `%s` per field, cast to the field's column type: a SELECT list or a VALUES list in a SELECT, unlike an
    INSERT's own VALUES, does not take its types from the target columns (a NULL would be text). The type without
    its modifier, so a too-long value still fails as it would in an INSERT's VALUES."""
    return ", ".join(f"%s::{field.db_type(connection).split('(')[0]}" for field in fields)


@cache
def _event_insert_sql(source: str = "moved") -> str:
    """The event of each row the CTE `source` returned (its `id`)."""
    columns = ", ".join(f'"{field.column}"' for field in _EVENT_FIELDS)
    values = typed_placeholders(_EVENT_FIELDS)
    return f'INSERT INTO {CheckoutEvent._meta.db_table} ("checkout_id", {columns}) SELECT id, {values} FROM {source}'


_CHECKOUT_FIELDS = [field for field in Checkout._meta.concrete_fields if not field.primary_key]
CREATED_ID = "(SELECT id FROM created)"


@cache
def _created_with_event_sql() -> str:
    columns = ", ".join(f'"{field.column}"' for field in _CHECKOUT_FIELDS)
    values = ", ".join(["%s"] * len(_CHECKOUT_FIELDS))
    return (
        f"WITH created AS (INSERT INTO {Checkout._meta.db_table} ({columns}) VALUES ({values}) RETURNING id),\n"
        f"created_event AS ({_event_insert_sql('created')})"
    )


def checkout_create(
    *, checkout: Checkout, actor: Actor, reason: str, at: datetime, parts: dict[str, tuple[str, list]] | None = None
) -> dict[str, int]:
    """Write a new checkout (born in its initial status: not a transition) and its first event; one statement on
    PostgreSQL. An `IntegrityError` (a constraint refused the row) leaves the caller's transaction to roll back.

    `parts` (PostgreSQL only): more writes of the same statement, `{name: (sql, params)}`, each a data-modifying
    CTE that may name the new checkout's id as `CREATED_ID`; returns how many rows each returned."""
    if checkout.status != Status.HELD:
        raise CheckoutTransitionError(f"A checkout cannot be created {checkout.status}.", reasons=[checkout.status])
    event = checkout_event(None, old="", new=checkout.status, actor=actor, reason=reason, at=at)
    if connection.vendor != "postgresql":
        if parts:
            raise NotImplementedError("Writes in the checkout's statement need PostgreSQL.")
        checkout.save(force_insert=True)
        event.checkout_id = checkout.pk
        event.save(force_insert=True)
        return {}
    parts = parts or {}
    params = [field.get_db_prep_save(getattr(checkout, field.attname), connection) for field in _CHECKOUT_FIELDS]
    params += [getattr(event, field.attname) for field in _EVENT_FIELDS]
    for _, part_params in parts.values():
        params += part_params
    sql = "".join([
        _created_with_event_sql(),
        *(f",\n{name} AS ({part_sql})" for name, (part_sql, _) in parts.items()),
        "\nSELECT id", *(f", (SELECT count(*) FROM {name})" for name in parts), " FROM created",
    ])  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        checkout.pk, *counts = cursor.fetchone()
    checkout._state.adding = False
    return dict(zip(parts, counts, strict=True))


def _move_with_event(*, pk: int, old: str, to: str, changes: dict, event: CheckoutEvent) -> int:
    """`UPDATE … WHERE id = pk AND status = old` and the event of the row it moved, in one statement."""
    fields = [Checkout._meta.get_field(name) for name in changes]
    assignments = ", ".join(f'"{field.column}" = %s' for field in fields)
    sql = (
        f'WITH moved AS (UPDATE {Checkout._meta.db_table} SET "status" = %s, {assignments} '
        f'WHERE "id" = %s AND "status" = %s RETURNING "id")\n{_event_insert_sql()}'
    )
    params = [to, *(field.get_db_prep_save(changes[field.name], connection) for field in fields), pk, old]
    params += [getattr(event, field.attname) for field in _EVENT_FIELDS]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def checkouts_transition(*, rows, to: str, actor: Actor, reason: str = "", at=None) -> int:
    """Move every checkout of `rows` the table lets go to `to` (the sweep), with an event each."""
    at = at or timezone.now()
    return status_move_many(
        rows=rows,
        to=to,
        allowed=lambda status: to in TRANSITIONS.get(status, set()),
        changes=lambda old: {"status_changed_at": at},
        event=lambda pk, old: checkout_event(pk, old=old, new=to, actor=actor, reason=reason, at=at),
        skip_locked=True,
    )
