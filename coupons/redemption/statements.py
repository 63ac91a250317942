"""The till's statements: what validate and redeem read and write, in as few round trips as possible.

Validate and redeem read everything in one statement: the member, the store with its parent, whether
this client, that store or the caller's address is at an abuse limit this minute
(`coupons.redemption.guessing`, `config.api.authentication`), and the coupon with its series. A
redemption's locked route reads the coupon with its series again, locked. On PostgreSQL a redemption is
written in one statement: a data-modifying CTE that moves the coupon, records its event, inserts the
redemption row and counts it on the series under the series' limit. The decisions stay in
`coupons.redemption` (rules, discount; which route, `coupons.redemption.routes`); the coupon's move and
its event are the lifecycle writer's (`coupons.lifecycle.status.coupon_move_statement`, checked against
the transition table); this module only puts the statement together.

The reads are plain SQL that SQLite runs too (values go through the ORM's converters, see
`config.rawrows`). SQLite has no data-modifying CTEs, so there the writes go through the ORM
(`redemption_write_orm`), one statement each, with the same outcome.
"""

from dataclasses import dataclass
from datetime import datetime
from functools import cache

from django.db import connection
from django.db.models import BigIntegerField, BooleanField, CharField, DateTimeField, F, JSONField, Value
from django.db.models.expressions import RawSQL
from django.db.models.functions import Cast
from django.utils import timezone

from config.actors import Actor
from config.api import attempts, idempotency
from config.rawrows import ModelColumns
from coupons.exceptions import CouponTransitionError
from coupons.lifecycle.statements import coupon_move_sql, events_insert_sql
from coupons.lifecycle.status import coupon_event, coupon_move_statement, coupon_transition
from coupons.models import Coupon, CouponRedemption, CouponSeries
from coupons.redemption import guessing, rules
from members.models import Member, OrgEntity
from webhooks import events
from webhooks.outbox import EventCteTemplate, Param, events_kick
from webhooks.payloads import COUPON as COUPON_OBJECT
from webhooks.payloads import coupon_data, coupon_emit

MEMBER = ModelColumns(Member, "m")
STORE = ModelColumns(OrgEntity, "s")
PARENT = ModelColumns(OrgEntity, "p")
COUPON = ModelColumns(Coupon, "c")
SERIES = ModelColumns(CouponSeries, "ser")

TILL_STORE_TYPES = (OrgEntity.Type.STORE, OrgEntity.Type.TILL)

# The client's and the address's keys, and the store's (computed from the store row joined below).
CONTEXT_COLUMNS = f"""{MEMBER.sql}, {STORE.sql}, {PARENT.sql},
       {attempts.at_limit_sql("%s, %s, " + guessing.store_key_sql("s"))}"""
CONTEXT_JOINS = f"""FROM (SELECT 1 AS one) one
LEFT JOIN {Member._meta.db_table} m ON m.external_id = %s
LEFT JOIN {OrgEntity._meta.db_table} s ON s.code = %s AND s.type IN ('{TILL_STORE_TYPES[0]}', '{TILL_STORE_TYPES[1]}')
LEFT JOIN {OrgEntity._meta.db_table} p ON p.id = s.parent_id"""


def _coupon_id(member: str) -> str:
    """The code's own row, else the member's row of a common code, else the newest row of that common code.

    Each branch names `is_common` so it runs on its partial unique index.
    """
    table = Coupon._meta.db_table
    return f"""COALESCE(
    (SELECT id FROM {table} WHERE code = %s AND NOT is_common),
    (SELECT id FROM {table} WHERE code = %s AND is_common AND member_id = {member}),
    (SELECT id FROM {table} WHERE code = %s AND is_common ORDER BY id DESC LIMIT 1))"""


CONTEXT_SQL = f"SELECT {CONTEXT_COLUMNS}\n{CONTEXT_JOINS}"
# Validation reads the coupon in the same statement (no lock, so the outer joins are fine).
CONTEXT_AND_COUPON_SQL = f"""SELECT {CONTEXT_COLUMNS}, {COUPON.sql}, {SERIES.sql}
{CONTEXT_JOINS}
LEFT JOIN {Coupon._meta.db_table} c ON c.id = {_coupon_id("m.id")} AND c.code = %s
LEFT JOIN {CouponSeries._meta.db_table} ser ON ser.id = c.series_id"""
COUPON_SQL = f"""SELECT {COUPON.sql}, {SERIES.sql}
FROM {Coupon._meta.db_table} c JOIN {CouponSeries._meta.db_table} ser ON ser.id = c.series_id
WHERE c.id = {_coupon_id("%s")} AND c.code = %s"""

CONTEXT_WIDTH = MEMBER.width + STORE.width + PARENT.width + 1

# A redeem sent with an Idempotency-Key reads the key's stored answer in the same statement (its last columns).
_KEY_JOIN, _KEY_COLUMNS = idempotency.stored_answer_sql()


def _with_stored_answer(sql: str) -> str:
    head, joins = sql.split("\nFROM (SELECT 1 AS one) one", 1)
    return f"{head}, {_KEY_COLUMNS}\nFROM (SELECT 1 AS one) one{joins}\n{_KEY_JOIN}"


KEYED_CONTEXT_SQL = _with_stored_answer(CONTEXT_SQL)
KEYED_CONTEXT_AND_COUPON_SQL = _with_stored_answer(CONTEXT_AND_COUPON_SQL)


@dataclass(frozen=True)
class TillContext:
    member: Member | None
    store: OrgEntity | None  # a store or a till, its parent already loaded
    limited: bool  # the client, the store or the address is at an abuse limit this minute
    coupon: Coupon | None = None  # with its series, when the coupon was read too


def till_context(
    *, limit_keys: tuple[str, str], member_external_id, store_code, now: datetime, code=None
) -> TillContext:
    """The member and store a till names, and whether a limit applies, in one statement.

    `limit_keys` are the client's unknown-code key and the caller's address key; the store's is read
    from its row. With `code`, the same statement reads the coupon (as `coupon_with_series` would, unlocked).
    """
    window_start = connection.ops.adapt_datetimefield_value(attempts.window_start(now))
    params = [window_start, *limit_keys, member_external_id, store_code]
    pending = idempotency.pending_key()
    if pending is None:
        sql = CONTEXT_SQL if code is None else CONTEXT_AND_COUPON_SQL
    else:
        sql = KEYED_CONTEXT_SQL if code is None else KEYED_CONTEXT_AND_COUPON_SQL
    if code is not None:
        params += [code, code, code, code]
    if pending is not None:
        params += [pending.client_id, pending.key]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if pending is not None:
        # A live stored answer is replayed before anything else is looked at (even a blocked client's).
        idempotency.stored_answer_check(pending, row[-idempotency.STORED_ANSWER_WIDTH :])
    member = MEMBER.build(row)
    store = STORE.build(row, MEMBER.width)
    if store is not None and store.parent_id is not None:
        store.parent = PARENT.build(row, MEMBER.width + STORE.width)
    coupon = None if code is None else _coupon_from(row, CONTEXT_WIDTH)
    return TillContext(member=member, store=store, limited=bool(row[CONTEXT_WIDTH - 1]), coupon=coupon)


def coupon_with_series(*, code: str, member_id: int | None, lock: bool = False) -> Coupon | None:
    """The coupon a till means by `code`, with its series, in one statement.

    `lock` locks the coupon row (not the series'): racers for one code queue here, and each gets the
    row as the winner left it.
    """
    sql = COUPON_SQL
    if lock and connection.features.has_select_for_update_of:
        sql += " FOR UPDATE OF c"
    with connection.cursor() as cursor:
        cursor.execute(sql, [code, code, member_id, code, code])
        row = cursor.fetchone()
    return None if row is None else _coupon_from(row, 0)


def _coupons_sql(count: int) -> str:
    """`COUPON_SQL` for `count` codes at once: the codes as a VALUES list (`column1` their position, `column2`
    the code), each looked up by the same three branches on its partial unique indexes."""
    table = Coupon._meta.db_table
    codes = ", ".join(f"({position}, %s)" for position in range(count))
    return f"""SELECT q.column1, {COUPON.sql}, {SERIES.sql}
FROM (VALUES {codes}) q
JOIN {table} c ON c.id = COALESCE(
    (SELECT id FROM {table} WHERE code = q.column2 AND NOT is_common),
    (SELECT id FROM {table} WHERE code = q.column2 AND is_common AND member_id = %s),
    (SELECT id FROM {table} WHERE code = q.column2 AND is_common ORDER BY id DESC LIMIT 1)) AND c.code = q.column2
JOIN {CouponSeries._meta.db_table} ser ON ser.id = c.series_id"""


def coupons_with_series(*, codes: list[str], member_id: int | None) -> list[Coupon | None]:
    """`coupon_with_series` (unlocked) for several codes in one statement: the coupon of each code, in the order
    given, None where no coupon has it (a basket's coupons)."""
    if not codes:
        return []
    with connection.cursor() as cursor:
        cursor.execute(_coupons_sql(len(codes)), [*codes, member_id])
        found = {row[0]: _coupon_from(row, 1) for row in cursor.fetchall()}
    return [found.get(position) for position in range(len(codes))]


def _coupon_from(row, start: int) -> Coupon | None:
    coupon = COUPON.build(row, start)
    if coupon is not None:
        coupon.series = SERIES.build(row, start + COUPON.width)
    return coupon


def _insert(model, alias: str, after: str) -> tuple[str, list]:
    """An INSERT of every concrete column but the primary key, as a CTE named `alias` that writes its row
    only when the CTE `after` returned one, and its fields."""
    fields = [field for field in model._meta.concrete_fields if not field.primary_key]
    columns = ", ".join(f'"{field.column}"' for field in fields)
    # Typed placeholders: a SELECT list, unlike VALUES, does not take its types from the target columns (a
    # NULL would be text). The type without its modifier, so a too-long value still fails as it would in VALUES.
    values = ", ".join(f"%s::{field.db_type(connection).split('(')[0]}" for field in fields)
    return (
        f"{alias} AS (INSERT INTO {model._meta.db_table} ({columns}) SELECT {values} FROM {after} RETURNING id)",
        fields,
    )


# Every part after the coupon's move depends on it: when the move finds the coupon no longer in the
# status the rules saw, the statement writes nothing at all, so it may run on its own, outside a
# transaction (`coupons.redemption`, the compare-and-swap redemption). The move and its event are the
# lifecycle writer's (`coupons.lifecycle.status.coupon_move_statement`, checked against the transition
# table); a multi-use coupon, which keeps its status, only clears `is_reversed`.
REDEMPTION_INSERT, REDEMPTION_FIELDS = _insert(CouponRedemption, "redemption", after="moved")
KEEP = f"moved AS (UPDATE {Coupon._meta.db_table} SET is_reversed = false WHERE id = %s AND code = %s RETURNING id)"
# The series counter is the statement's last write. Every redemption of a series updates its one row, and holds
# that row's lock from the update to the end of its commit, fsync included: racers queue there (on the loaded
# machine of 2026-12-08, three of eight redeeming connections at a time, on average, waited on it). So the counter
# comes after the redemption row, its webhook event and the Idempotency-Key: the answer's subqueries run the
# CTEs in their order, and the coupon event (which nothing reads) runs after them all. When the counter's limit
# refuses, the rows before it are written and the caller's transaction rolls them back, as it does the move.
COUNT = f"""counted AS (UPDATE {CouponSeries._meta.db_table} SET redeemed_count = redeemed_count + 1
           WHERE id = %s AND EXISTS (SELECT FROM redemption)"""
COUNT_UNDER_LIMIT = " AND redeemed_count < %s"
# A checkout counts its redemptions on their series itself, as the last statement before its commit (see
# `series_counts_write`), so the shared series rows stay locked only for that statement and the commit.


def _redeemed_event_parts():
    written = RawSQL("EXISTS (SELECT 1 FROM redemption)", [], output_field=BooleanField())
    coupons = Coupon.objects.filter(written, pk=RawSQL("%s", [Param("coupon_id")]), code=RawSQL("%s", [Param("code")]))
    data = coupon_data(status=Cast(Value(Param("status")), CharField()),
                       redemption_id=RawSQL("(SELECT id FROM redemption)", [], output_field=BigIntegerField()),
                       transaction_id=Cast(Value(Param("transaction_id")), CharField()))  # fmt: skip
    return coupons, data, Cast(Value(Param("at")), DateTimeField())


# The coupon.redeemed event (webhooks outbox): one more CTE of the same statement, written with the redemption
# row or not at all, so the outbox costs the till no round trip. Every read or write of the coupon by its id also
# names its code: on PostgreSQL coupons are partitioned on the code, so that finds the one partition to probe.
REDEEMED_EVENT = EventCteTemplate(name="webhook_event", type=events.COUPON_REDEEMED, object_type=COUPON_OBJECT,
                                  build=_redeemed_event_parts)  # fmt: skip


def _values(instance, fields) -> list:
    # PostgreSQL only: psycopg adapts these fields' Python values (str, int, Decimal, aware datetimes) as the ORM
    # would; a JSON value (the lines a checkout's redemption discounted) goes through its field's adapter.
    return [
        field.get_db_prep_value(getattr(instance, field.attname), connection)
        if isinstance(field, JSONField)
        else getattr(instance, field.attname)
        for field in fields
    ]


# The till's hold check inside the coupon's move: a coupon another checkout holds, unexpired, does not move,
# even when the hold was taken after the rules read the row (the swap then goes on as the locked route, whose
# rules answer `held_by_another_checkout`). The checkout that holds it clears its hold by redeeming.
HOLD_GUARD = " AND (held_by_checkout IS NULL OR held_by_checkout = %s OR held_until <= %s)"
HOLD_CLEARED = {"held_by_checkout": None, "held_until": None}


def redemption_write(
    *, redemption: CouponRedemption, to: str | None, actor: Actor, checkout_id: int | None = None, count: bool = True
) -> str | None:
    """Write a redemption the rules allowed, under the caller's transaction and coupon row lock.

    `to` is the coupon's new status (None for a multi-use coupon, which stays as it is). Returns None
    when written, or the reason to refuse (the caller's transaction then rolls everything back): the
    coupon moved meanwhile, or the series reached its redemption limit (the counter's condition).
    PostgreSQL only (`coupons.redemption.routes` picks the write). `checkout_id`: the checkout redeeming what
    it holds; any other checkout's live hold refuses the move, as the coupon having moved does. `count=False`
    leaves the series' counter to the caller (`series_counts_write`, a checkout's last statement).
    """
    coupon, series = redemption.coupon, redemption.series
    now = timezone.now()
    parts, params = [], []
    move = None
    if to is not None:
        move = coupon_move_statement(coupon=coupon, to=to, actor=actor, reason="redeemed", at=now, is_reversed=False,
                                     guard=HOLD_GUARD, guard_params=[checkout_id, now], **HOLD_CLEARED)  # fmt: skip
        parts.append(move.sql)
        params += move.params
    else:
        parts.append(KEEP)
        params += [coupon.pk, coupon.code]
    parts.append(REDEMPTION_INSERT)
    params += _values(redemption, REDEMPTION_FIELDS)
    event_sql, event_params = REDEEMED_EVENT.render(coupon_id=coupon.pk, code=coupon.code, status=to or coupon.status,
                                                    transaction_id=redemption.transaction_id, at=now)  # fmt: skip
    parts.append(event_sql)
    params += event_params
    keyed = "0"
    pending = idempotency.pending_key()
    if pending is not None and pending.answer is not None and not pending.written:
        # The request's Idempotency-Key and its answer, written with the redemption or not at all.
        key_sql, key_params = idempotency.key_insert_cte(pending, after="redemption", id_column="redemption_id",
                                                         answer=pending.answer(redemption))  # fmt: skip
        parts.append(key_sql)
        params += key_params
        keyed = "(SELECT count(*) FROM keyed)"
    counted = "1"
    if count:
        counter = COUNT
        params.append(series.pk)
        if series.redemption_series_limit is not None:
            counter += COUNT_UNDER_LIMIT
            params.append(series.redemption_series_limit)
        parts.append(counter + " RETURNING id)")
        counted = "(SELECT count(*) FROM counted)"
    # The answer's subqueries run the CTEs in this order: the series counter last (see COUNT).
    answer = (f"SELECT (SELECT count(*) FROM moved), (SELECT id FROM redemption), "
              f"(SELECT count(*) FROM webhook_event), {keyed}, {counted}")  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute("WITH " + ",\n".join(parts) + "\n" + answer, params)
        moved, redemption.pk, _, keyed, counted = cursor.fetchone()
    if keyed and counted:
        pending.written = True
    redemption._state.adding = False
    if redemption.pk is not None:
        events_kick()
    if not moved:
        return rules.ALREADY_REDEEMED
    if not counted:
        return rules.SERIES_REDEMPTION_LIMIT_REACHED
    if move is not None:
        move.mirror_on(coupon)
    coupon.is_reversed = False
    return None


def redemption_write_orm(
    *, redemption: CouponRedemption, to: str | None, actor: Actor, checkout_id: int | None = None, count: bool = True
) -> str | None:
    """`redemption_write` with the ORM, one statement per row, for a database without data-modifying CTEs
    (which takes its writes one at a time, so the rules' read of a hold stands)."""
    coupon, series = redemption.coupon, redemption.series
    if to is not None:
        try:
            coupon_transition(coupon=coupon, to=to, actor=actor, reason="redeemed", is_reversed=False, refresh=False,
                              **HOLD_CLEARED)  # fmt: skip
        except CouponTransitionError:
            return rules.ALREADY_REDEEMED
    else:
        Coupon.objects.filter(pk=coupon.pk).update(is_reversed=False)
        coupon.is_reversed = False
    redemption.save(force_insert=True)
    if count:
        counted = CouponSeries.objects.filter(pk=series.pk)
        if series.redemption_series_limit is not None:
            counted = counted.filter(redeemed_count__lt=series.redemption_series_limit)
        if not counted.update(redeemed_count=F("redeemed_count") + 1):
            return rules.SERIES_REDEMPTION_LIMIT_REACHED
    coupon_emit(type=events.COUPON_REDEEMED, coupon_id=coupon.pk, at=redemption.redeemed_at,
                redemption_id=redemption.pk, transaction_id=redemption.transaction_id)  # fmt: skip
    return None


def coupons_for_update(*, coupons: list[tuple[int, str]]) -> dict[int, Coupon]:
    """The coupons of these (id, code) pairs with their series, rows locked in id order (not the series'), in one
    statement: a checkout's held coupons at its commit. The code as well: it finds the one partition to probe."""
    if not coupons:
        return {}
    ids = sorted({pk for pk, _ in coupons})
    codes = sorted({code for _, code in coupons})
    sql = f"""SELECT {COUPON.sql}, {SERIES.sql}
FROM {Coupon._meta.db_table} c JOIN {CouponSeries._meta.db_table} ser ON ser.id = c.series_id
WHERE c.id IN ({", ".join(["%s"] * len(ids))}) AND c.code IN ({", ".join(["%s"] * len(codes))})
ORDER BY c.id"""
    if connection.features.has_select_for_update_of:
        sql += " FOR UPDATE OF c"
    with connection.cursor() as cursor:
        cursor.execute(sql, [*ids, *codes])
        found = [_coupon_from(row, 0) for row in cursor.fetchall()]
    return {coupon.pk: coupon for coupon in found if (coupon.pk, coupon.code) in set(coupons)}


# Every series' count in one statement: the rows are locked in id order first (a MATERIALIZED CTE, so two
# checkouts sharing series never wait on each other in a circle), then counted under their limits.
_SERIES_COUNT_SQL = """WITH locked AS MATERIALIZED (
    SELECT id FROM {table} WHERE id IN ({ids}) ORDER BY id FOR UPDATE)
UPDATE {table} s SET redeemed_count = s.redeemed_count + v.n
FROM (VALUES {values}) v(id, n, lim), locked
WHERE locked.id = v.id AND s.id = v.id AND (v.lim IS NULL OR s.redeemed_count + v.n <= v.lim)
RETURNING s.id"""


def series_counts_write(*, counts: dict[int, tuple[int, int | None]]) -> set[int]:
    """Count `{series_id: (redemptions, limit)}` on the series rows, each only while it stays within its limit;
    returns the series counted (one short of `counts`: a limit refused). One statement on PostgreSQL; one per
    series, in id order, elsewhere."""
    if not counts:
        return set()
    ordered = sorted(counts.items())
    if connection.vendor != "postgresql":
        counted = set()
        for pk, (n, limit) in ordered:
            rows = CouponSeries.objects.filter(pk=pk)
            if limit is not None:
                rows = rows.filter(redeemed_count__lte=limit - n)
            if rows.update(redeemed_count=F("redeemed_count") + n):
                counted.add(pk)
        return counted
    table = CouponSeries._meta.db_table
    sql = _SERIES_COUNT_SQL.format(
        table=table,
        ids=", ".join(["%s"] * len(ordered)),
        values=", ".join(["(%s::bigint, %s::integer, %s::bigint)"] * len(ordered)),
    )
    params = [pk for pk, _ in ordered] + [value for pk, (n, limit) in ordered for value in (pk, n, limit)]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {row[0] for row in cursor.fetchall()}


def _held_redeemed_event_parts():
    # The codes as well: coupons are partitioned on the code, so the read probes only their partitions.
    written = RawSQL(f'"{Coupon._meta.db_table}"."id" IN (SELECT coupon_id FROM redemption) '
                     f'AND "{Coupon._meta.db_table}"."code" = ANY(%s)', [Param("codes")],
                     output_field=BooleanField())  # fmt: skip
    coupons = Coupon.objects.filter(written)
    redemption_id = RawSQL(f'(SELECT id FROM redemption WHERE coupon_id = "{Coupon._meta.db_table}"."id")', [],
                           output_field=BigIntegerField())  # fmt: skip
    data = coupon_data(status=Cast(Value(Param("status")), CharField()), redemption_id=redemption_id,
                       transaction_id=Cast(Value(Param("transaction_id")), CharField()))  # fmt: skip
    return coupons, data, Cast(Value(Param("at")), DateTimeField())


# `REDEEMED_EVENT` for every coupon a checkout's one statement redeemed: one event per redemption row it wrote.
HELD_REDEEMED_EVENTS = EventCteTemplate(name="webhook_event", type=events.COUPON_REDEEMED, object_type=COUPON_OBJECT,
                                        build=_held_redeemed_event_parts)  # fmt: skip


@cache
def _held_redemptions_insert_sql(count: int) -> str:
    """The redemption rows of `held_redemptions_write`, written only when all `count` coupons moved."""
    columns = ", ".join(f'"{field.column}"' for field in REDEMPTION_FIELDS)
    # Typed placeholders, as `_insert`'s: a VALUES list in a SELECT takes no types from the target columns.
    row = "(" + ", ".join(f"%s::{field.db_type(connection).split('(')[0]}" for field in REDEMPTION_FIELDS) + ")"
    return (f"redemption AS (INSERT INTO {CouponRedemption._meta.db_table} ({columns}) "
            f"SELECT * FROM (VALUES {', '.join([row] * count)}) AS v "
            f"WHERE (SELECT count(*) FROM moved) = %s RETURNING id, coupon_id)")  # fmt: skip


def held_redemptions_write(*, redemptions: list[CouponRedemption], old: str, to: str, actor: Actor,
                           checkout_id: int) -> str | None:  # fmt: skip
    """`redemption_write(count=False)` of several once-only coupons a checkout holds, all read in status `old` and
    decided by the rules, in one statement: the coupons' move (under the hold check) with their events, the
    redemption rows and their `coupon.redeemed` events. The redemptions and their events are written only if every
    coupon moved; else the answer is `already_redeemed` and the caller's transaction must roll back (the coupons
    that did move, and their moves' events, go with it). PostgreSQL only; the request's key is the caller's to
    store (`idempotency.pending_answer_write`)."""
    now = timezone.now()
    coupons = [redemption.coupon for redemption in redemptions]
    ids, codes = [coupon.pk for coupon in coupons], [coupon.code for coupon in coupons]
    where = f"id IN ({', '.join(['%s'] * len(ids))}) AND code IN ({', '.join(['%s'] * len(codes))})" + HOLD_GUARD
    move_sql, move_params = coupon_move_sql(old=old, to=to, at=now, where=where,
                                            where_params=[*ids, *codes, checkout_id, now],
                                            also_set={"is_reversed": False, **HOLD_CLEARED})  # fmt: skip
    event = coupon_event(coupon_id=None, old=old, new=to, actor=actor, reason="redeemed", at=now)
    event_sql, event_params = events_insert_sql(event, moved="moved")
    insert = _held_redemptions_insert_sql(len(redemptions))
    transaction_id = redemptions[0].transaction_id
    webhook_sql, webhook_params = HELD_REDEEMED_EVENTS.render(codes=codes, status=to, transaction_id=transaction_id,
                                                              at=now)  # fmt: skip
    sql = (f"WITH moved AS ({move_sql}),\nmoved_event AS ({event_sql}),\n{insert},\n{webhook_sql}\n"
           "SELECT (SELECT count(*) FROM moved), redemption.id, redemption.coupon_id FROM redemption")  # fmt: skip
    params = [*move_params, *event_params]
    for redemption in redemptions:
        params += _values(redemption, REDEMPTION_FIELDS)
    params += [len(redemptions), *webhook_params]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        written = {coupon_id: pk for _, pk, coupon_id in cursor.fetchall()}
    if len(written) < len(redemptions):
        return rules.ALREADY_REDEEMED
    changes = {"status": to, "last_status_change_on": now, "is_reversed": False, **HOLD_CLEARED}
    for redemption in redemptions:
        redemption.pk = written[redemption.coupon_id]
        redemption._state.adding = False
        for name, value in changes.items():
            setattr(redemption.coupon, name, value)
    events_kick()
    return None
