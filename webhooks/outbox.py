"""Writing events: one call in the transaction of the change, for one object or for a set of them.

- `events_emit`: one event whose data the caller already has (a finished job, a transaction);
- `events_emit_from_query`: one event per row of a queryset, as one `INSERT … SELECT` (bulk issuance, sweeps,
  uploads, and single coupons too: the payload is built by the database from the row, with its joins);
- `event_insert_cte`: the same INSERT as a CTE, for a caller that writes its change in one statement (the till's
  redemption), so the event costs no round trip of its own;
- `event_row_cte`: `events_emit`'s event as such a CTE, for an object the same statement inserts (a purchase).

A set-based path may write thin events (`data=None`): the reference only, the payload built from the object's row
when the event is first sent (webhooks/payloads.py, `thin_payloads_fill`) and kept from then on, so every try and
every endpoint gets the same body. Bulk issuance does: a payload per coupon was most of what its events cost.

Every event is written, whether or not an endpoint wants its type today (see docs/webhooks.md): the outbox is the
log the dispatcher fans out from, and the hot paths never read endpoint configuration. After the commit the
dispatcher is woken (`events_kick`); a rolled-back change takes its events with it, and nothing is queued.
"""

import logging
import time

from django.db import connection, transaction
from django.db.models import BigIntegerField, BooleanField, CharField, DateTimeField, JSONField, TextField, Value
from django.db.models.expressions import RawSQL
from django.db.models.functions import Cast, JSONObject
from django.utils import timezone

from config.tasks import TRANSIENT_ERRORS

from .events import EVENT_TYPES
from .models import Event

logger = logging.getLogger(__name__)
EVENT_COLUMNS = "type, object_type, object_id, data, created_at"
KICK_INTERVAL = 1.0  # seconds: a process wakes the dispatcher at most this often, with a countdown as long

_last_kick = 0.0


def events_emit(*, type: str, object_type: str, object_id, data: dict, at=None) -> Event:
    """One event for one object, with `data` (JSON-safe) as its payload."""
    _check_type(type)
    event = Event.objects.create(type=type, object_type=object_type, object_id=str(object_id), data=data,
                                 created_at=at or timezone.now())  # fmt: skip
    events_kick()
    return event


def event_row_cte(*, name: str, type: str, object_type: str, object_id_sql: str, source: str, data: dict,
                  at=None) -> tuple[str, list]:  # fmt: skip
    """`events_emit` as a CTE of a data-modifying statement (PostgreSQL): `name AS (INSERT … SELECT …)` of one event
    with the caller's `data` for each row of `source` (another CTE of the statement), its object id
    `object_id_sql` over that row; for an object whose id that statement assigns. The caller kicks the
    dispatcher (`events_kick`) once the statement wrote the event."""
    _check_type(type)
    data = Event._meta.get_field("data").get_db_prep_save(data, connection)
    sql = (
        f"{name} AS (INSERT INTO {Event._meta.db_table} ({EVENT_COLUMNS}) "
        f"SELECT %s, %s, ({object_id_sql})::text, %s, %s FROM {source} RETURNING id)"
    )
    return sql, [type, object_type, data, at or timezone.now()]


def events_emit_from_query(*, type: str, object_type: str, queryset, data: dict | None, object_id="pk", at=None) -> int:
    """One event per row of `queryset`, in one INSERT … SELECT; `data` maps payload keys to expressions
    over the row (`F("code")`, `F("member__external_id")`, `Value(...)`), or is None for thin events.
    Returns how many were written."""
    sql, params = event_select_sql(type=type, object_type=object_type, queryset=queryset, data=data,
                                   object_id=object_id, at=at)  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {Event._meta.db_table} ({EVENT_COLUMNS}) {sql}", params)
        written = cursor.rowcount
    if written:
        events_kick()
    return written


def event_select_sql(*, type: str, object_type: str, queryset, data: dict | None, object_id="pk", at=None):
    """The SELECT of event rows (in EVENT_COLUMNS order) for each row of `queryset`, and its parameters."""
    _check_type(type)
    at = at or timezone.now()
    if not hasattr(at, "resolve_expression"):
        at = Value(at, output_field=DateTimeField())
    columns = {
        "wh_type": Value(type, output_field=CharField()),
        "wh_object_type": Value(object_type, output_field=CharField()),
        "wh_object_id": Cast(object_id, output_field=CharField()),
        "wh_data": RawSQL("NULL", [], output_field=JSONField()) if data is None else payload_expression(data),
        "wh_created_at": at,
    }
    rows = queryset.order_by().annotate(**columns).values(*columns)
    return rows.query.sql_with_params()


def payload_expression(data: dict):
    """The JSON object of `data`'s expressions over a row, as the database builds it."""
    return JSONObject(**{key: _typed(value) for key, value in data.items()})


def event_insert_cte(*, name: str, type: str, object_type: str, queryset, data: dict, object_id="pk", at=None):
    """`name AS (INSERT … SELECT …)` for a data-modifying statement (PostgreSQL), and its parameters. The
    queryset may refer to the statement's other CTEs (through RawSQL), e.g. to write only if they wrote."""
    sql, params = event_select_sql(type=type, object_type=object_type, queryset=queryset, data=data,
                                   object_id=object_id, at=at)  # fmt: skip
    return f"{name} AS (INSERT INTO {Event._meta.db_table} ({EVENT_COLUMNS}) {sql} RETURNING id)", list(params)


def events_kick() -> None:
    """Wake the dispatcher once the transaction commits; at most once a KICK_INTERVAL per process, with a
    countdown as long, so an event committed meanwhile is seen by that run (the beat schedule is the backstop)."""
    from config.celery import app

    eager = app.conf.task_always_eager
    if not eager and time.monotonic() - _last_kick < KICK_INTERVAL:
        return
    transaction.on_commit(lambda: _kick(countdown=None if eager else KICK_INTERVAL))


def _kick(*, countdown) -> None:
    from .tasks import events_dispatch_task

    global _last_kick
    _last_kick = time.monotonic()
    try:
        events_dispatch_task.apply_async(countdown=countdown)
    except TRANSIENT_ERRORS:
        # The change is committed; the scheduled dispatcher picks its events up within a minute.
        logger.warning("Could not wake the webhook dispatcher", exc_info=True)


def _typed(expression):
    """A parameter inside a JSON object needs its type spelled out on PostgreSQL (the function takes "any")."""
    if not isinstance(expression, Value):
        return expression
    value = expression.value
    if isinstance(value, bool):
        return Cast(expression, output_field=BooleanField())
    if isinstance(value, int):
        return Cast(expression, output_field=BigIntegerField())
    if isinstance(value, str) or value is None:
        return Cast(expression, output_field=TextField())
    return Cast(expression, output_field=expression._resolve_output_field())


def _check_type(type: str) -> None:
    if type not in EVENT_TYPES:
        raise ValueError(f"Unknown webhook event type {type!r}.")


class EventCteTemplate:
    """`event_insert_cte` compiled once, for a statement that runs many times a second (the till's redemption):
    the values that change per run are `Param`s, put in place of their markers by `render`."""

    def __init__(self, *, name: str, type: str, object_type: str, build):
        self.name, self.type, self.object_type, self.build = name, type, object_type, build
        self._compiled = None

    def render(self, **values) -> tuple[str, list]:
        if self._compiled is None:
            queryset, data, at = self.build()
            self._compiled = event_insert_cte(name=self.name, type=self.type, object_type=self.object_type,
                                              queryset=queryset, data=data, at=at)  # fmt: skip
        sql, params = self._compiled
        return sql, [values[param.name] if isinstance(param, Param) else param for param in params]


class Param(str):
    """A marker for a value `EventCteTemplate.render` fills in (passed as a parameter, so never parsed as SQL)."""

    def __new__(cls, name: str):
        marker = super().__new__(cls, f"\x00{name}\x00")
        marker.name = name
        return marker
