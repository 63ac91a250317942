"""The one writer of a coupon's status, in each form a caller needs, and the one builder of its events.

- `coupon_transition`: one coupon, compare-and-swap (`UPDATE … WHERE id = … AND status = old`) and its event;
- `coupons_transition`: a set of coupons in one status, one UPDATE and one event per coupon it moved;
- `coupon_move_statement` / `coupons_move_statement`: the same move as the CTEs of one PostgreSQL
  statement, for the till's redemption and the expiry sweep, which add their own parts around it.

Every form checks its move against `coupons.lifecycle.transitions` before writing, and builds its events
with `coupon_event`. Nothing else writes `Coupon.status` or `last_status_change_on` (a test scans the
coupons package for writes elsewhere). Creating a coupon is not a transition: it is born in one of
`INITIAL_STATUSES`, and `coupon_created_event_record` records an issued coupon's first event.
"""

from dataclasses import dataclass

from django.core.exceptions import EmptyResultSet
from django.db import connection, transaction
from django.utils import timezone

from config.actors import Actor
from coupons.exceptions import CouponTransitionError
from coupons.lifecycle.statements import MOVE_COLUMNS, coupon_move_sql, events_insert_sql
from coupons.lifecycle.transitions import INITIAL_STATUSES, transition_check
from coupons.models import Coupon, CouponEvent

Status = Coupon.Status

EVENT_BATCH_SIZE = 2000


def coupon_event(*, coupon_id: int | None, old: str, new: str, actor: Actor | None, reason: str = "", at=None):
    """The (unsaved) event of a coupon's move from `old` to `new` ("" for a coupon just created)."""
    return CouponEvent(
        coupon_id=coupon_id,
        old_status=old,
        new_status=new,
        actor=(actor.name if actor else "system")[:100],
        channel=(actor.channel if actor else "system")[:30],
        reason=reason[:255],
        at=at or timezone.now(),
    )


def coupon_created_event_record(*, coupon: Coupon, actor: Actor, reason: str = "issued") -> CouponEvent:
    """Record the first event of a coupon created in its initial status (no old status: not a transition)."""
    if coupon.status not in INITIAL_STATUSES:
        raise CouponTransitionError(f"A coupon cannot be created {coupon.status}.", reasons=[coupon.status])
    event = coupon_event(coupon_id=coupon.pk, old="", new=coupon.status, actor=actor, reason=reason,
                         at=coupon.last_status_change_on)  # fmt: skip
    event.save(force_insert=True)
    return event


def coupon_transition(
    *, coupon: Coupon, to: str, actor: Actor, reason: str = "", refresh: bool = True, reissue: bool = False,
    at=None, **fields,
) -> Coupon:  # fmt: skip
    """Move a coupon to `to` if the transition table allows it from its current status (compare-and-swap).

    `fields` are other columns the move sets (the holder and dates of an issue). `reissue` allows seed
    003's move of a revoked code to another member (a codes upload). `refresh=False` skips re-reading the
    row: the till's redeem path sets the changed fields in memory.
    """
    old = coupon.status
    transition_check(old, to, reissue=reissue)
    _refuse_move_columns(fields)
    at = at or timezone.now()
    changes = {"status": to, "last_status_change_on": at, **fields}
    # No savepoint inside a caller's transaction: a lost swap raises, and the caller's whole unit rolls back.
    with transaction.atomic(savepoint=False):
        moved = Coupon.objects.filter(pk=coupon.pk, status=old).update(**changes)
        if not moved:
            coupon.refresh_from_db(fields=["status"])
            raise CouponTransitionError(f"The coupon is {coupon.status} now.", reasons=[coupon.status])
        coupon_event(coupon_id=coupon.pk, old=old, new=to, actor=actor, reason=reason, at=at).save(force_insert=True)
    if refresh:
        coupon.refresh_from_db()
    else:
        _mirror(coupon, changes)
    return coupon


def coupons_transition(
    *, from_status: str, to: str, actor: Actor, reason: str = "", ids=None, queryset=None, at=None
) -> int:
    """Move every coupon of `ids` (or `queryset`) that is in `from_status` to `to`; returns how many moved.

    One UPDATE, conditional on the status, returns the ids it moved, and each of those gets its event, so
    a coupon another writer moved meanwhile is neither moved nor recorded.
    """
    if (ids is None) == (queryset is None):
        raise TypeError("Pass ids or a queryset of coupons.")
    rows = Coupon.objects.filter(pk__in=list(ids)) if queryset is None else queryset
    try:
        if not rows.query.is_sliced:
            rows = rows.order_by()
        picked, picked_params = rows.values("pk").query.sql_with_params()
    except EmptyResultSet:  # no ids, or a queryset that can match nothing: nothing to move
        transition_check(from_status, to)
        return 0
    at = at or timezone.now()
    sql, params = coupon_move_sql(old=from_status, to=to, at=at, where=f"id IN ({picked})", where_params=picked_params)
    with transaction.atomic(savepoint=False):
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            moved = [pk for (pk,) in cursor.fetchall()]
        CouponEvent.objects.bulk_create(
            (coupon_event(coupon_id=pk, old=from_status, new=to, actor=actor, reason=reason, at=at) for pk in moved),
            batch_size=EVENT_BATCH_SIZE,
        )
    return len(moved)


def coupons_created_events_record(*, queryset, actor: Actor, at, reason: str = "issued") -> int:
    """The first event of every coupon of `queryset`, each created issued at `at` by a set-based path
    (an upload's chunk): one INSERT … SELECT on PostgreSQL."""
    event = coupon_event(coupon_id=None, old="", new=Status.ISSUED, actor=actor, reason=reason, at=at)
    if connection.vendor != "postgresql":
        ids = list(queryset.values_list("pk", flat=True))
        CouponEvent.objects.bulk_create(
            (coupon_event(coupon_id=pk, old="", new=Status.ISSUED, actor=actor, reason=reason, at=at) for pk in ids),
            batch_size=EVENT_BATCH_SIZE,
        )
        return len(ids)
    try:
        picked, picked_params = queryset.order_by().values("pk").query.sql_with_params()
    except EmptyResultSet:
        return 0
    # The queryset's own SELECT as the source: one scan of the new coupons, not a second probe of each by id.
    sql, params = events_insert_sql(event, moved=f"({picked}) AS picked (id)")
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, *picked_params])
        return cursor.rowcount


def coupon_reinstate(*, coupon: Coupon, actor: Actor, at=None) -> None:
    """The coupon of a reversed redemption, whose row the caller holds locked: a redeemed coupon is issued
    again (its event says so); one in any other status (a multi-use coupon, which stays issued, or one
    revoked or expired since) keeps it and is only marked reversed."""
    at = at or timezone.now()
    if coupon.status == Status.REDEEMED:
        coupon_transition(coupon=coupon, to=Status.ISSUED, actor=actor, reason="redemption reversed", at=at,
                          is_reversed=True)  # fmt: skip
        return
    Coupon.objects.filter(pk=coupon.pk).update(is_reversed=True, last_status_change_on=at)


@dataclass(frozen=True)
class MoveStatement:
    """A move as the CTEs `moved` (the ids it moved) and `moved_event` of one statement, with their parameters."""

    sql: str
    params: list
    changes: dict  # what the move sets on the row, to mirror on the instance once it moved

    def mirror_on(self, coupon: Coupon) -> None:
        _mirror(coupon, self.changes)


def coupon_move_statement(
    *, coupon: Coupon, to: str, actor: Actor, reason: str, at, guard: str = "", guard_params=(), **also_set
) -> MoveStatement:
    """One coupon's compare-and-swap from the status it was read in, as CTEs for the till's single statement.

    `guard` is a further condition on the row (`AND …`, its `%s` take `guard_params`): the till's hold check."""
    # The code as well as the id: coupons are partitioned on the code (PostgreSQL), so the move probes one partition.
    return _move_statement(old=coupon.status, to=to, at=at, where="id = %s AND code = %s" + guard,
                           where_params=[coupon.pk, coupon.code, *guard_params], actor=actor, reason=reason,
                           also_set=also_set)  # fmt: skip


def coupons_move_statement(*, old: str, to: str, where: str, where_params, actor: Actor, reason: str, at):
    """A set-based move as CTEs (`where` picks the rows), for a sweep that moves and records in one statement."""
    return _move_statement(old=old, to=to, at=at, where=where, where_params=where_params, actor=actor, reason=reason,
                           also_set={})  # fmt: skip


def _move_statement(*, old, to, at, where, where_params, actor, reason, also_set) -> MoveStatement:
    update, update_params = coupon_move_sql(old=old, to=to, at=at, where=where, where_params=where_params,
                                            also_set=also_set)  # fmt: skip
    event = coupon_event(coupon_id=None, old=old, new=to, actor=actor, reason=reason, at=at)
    insert, insert_params = events_insert_sql(event, moved="moved")
    return MoveStatement(
        sql=f"moved AS ({update}),\nmoved_event AS ({insert})",
        params=[*update_params, *insert_params],
        changes={"status": to, "last_status_change_on": at, **also_set},
    )


def _refuse_move_columns(fields) -> None:
    if set(fields) & set(MOVE_COLUMNS):
        raise ValueError("A move sets the status and its time itself.")


def _mirror(coupon: Coupon, changes: dict) -> None:
    for name, value in changes.items():
        setattr(coupon, name, value)
