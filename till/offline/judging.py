"""One chunk of an offline batch, set-based: a few queries, the rules row by row, one write per kind.

The rows of a chunk come in the order they happened (`redeemed_at`, then their place in the batch), as the
row-at-a-time path judged them (tests/till/offline/reference_offline.py still does, for the comparison test):

1. the members and the coupons the rows name are read with one query per few thousand values (an array
   parameter, `config.lookups`), the coupons locked, as the till's redemption locks its one coupon; then the
   series (those with a redemption limit locked, after the coupons, in the till's order), the stores each series
   allows, the members' live redemptions of multi-use coupons and the standing redemption of each redeemed coupon;
2. each row is judged by the redemption rules (`coupons.redemption.rules.redemption_reasons`, the one rule set
   every path shares) at its `redeemed_at`, over that state, which each accepted row updates: the second row
   naming a once-only code sees it redeemed (`already_redeemed`, an offline conflict against the first);
3. the writes: the coupons' moves through the status writer's set form (`coupons_transition`, with their
   events), the series counters, the redemption rows, their `coupon.redeemed` events, the conflicts and the
   chunk's answers (one row), one statement each.

The caller runs the chunk in one transaction, holding the batch row locked.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from decimal import Decimal

from django.db import connection
from django.db.models import Count, F, Max
from django.utils import timezone

from config.actors import Actor
from config.client_time import ClientTimeWindow, client_time_window
from config.errors import DomainError
from config.lookups import int_array_literal  # also registers __in_array
from coupons.exceptions import CouponTransitionError, RedemptionError
from coupons.lifecycle.status import coupons_move_statement, coupons_transition
from coupons.lifecycle.transitions import transition_check
from coupons.models import Coupon, CouponRedemption, CouponSeries
from coupons.redemption import rules
from coupons.redemption.services import exchange_rate, redemption_code, store_context, store_local_time
from members.models import Member, OrgEntity
from members.selectors import org_entity_lineage_ids
from till.offline.exceptions import MALFORMED_ROW, MEMBER_NOT_FOUND
from till.offline.models import OfflineBatch, OfflineBatchChunk, OfflineConflict
from till.offline.rows import rows_copy
from webhooks import events
from webhooks.outbox import events_emit_from_query
from webhooks.payloads import COUPON as COUPON_OBJECT
from webhooks.payloads import coupon_data

# Values per lookup: one array parameter on PostgreSQL, within SQLite's 32,766 variables elsewhere.
LOOKUP_BATCH = 30_000
Status = Coupon.Status


@dataclass(frozen=True)
class BatchContext:
    """What every chunk of a batch shares: its store, where that store sits, its clock and its actor."""

    batch: OfflineBatch
    store: OrgEntity
    lineage_ids: frozenset[int]
    currency: str
    window: ClientTimeWindow
    now: datetime  # the server's clock for the batch: another checkout's hold counts until then
    zone: tzinfo  # the store's time zone: days and hours are the store's
    actor: Actor


@dataclass(slots=True)
class _Coupon:
    """What the rules and the writes read of a coupon, without a model instance each (10,000 a chunk)."""

    pk: int
    code: str
    member_id: int | None
    series_id: int
    status: str
    expires_at: datetime | None
    redeemable_from: datetime | None
    held_by_checkout: int | None
    held_until: datetime | None
    is_reversed: bool
    series: CouponSeries | None = None


COUPON_COLUMNS = ("pk", "code", "member_id", "series_id", "status", "expires_at", "redeemable_from",
                  "held_by_checkout", "held_until", "is_reversed")  # fmt: skip
REDEMPTION_FIELDS = ("coupon_id", "series_id", "member_id", "bill_amount", "discount_amount", "exchange_rate",
                     "transaction_id", "redeemed_at")  # fmt: skip


@dataclass(slots=True)
class _Redemption:
    """An accepted row's redemption, as the till's redemption would write it; its id once written."""

    coupon_id: int
    series_id: int
    member_id: int
    bill_amount: Decimal
    discount_amount: Decimal
    exchange_rate: Decimal | None
    transaction_id: str
    redeemed_at: datetime
    store_id: int = 0
    pk: int | None = None


@dataclass
class _State:
    """The chunk's preloaded state, which each accepted row updates as the row-at-a-time path's writes did."""

    members: dict[str, Member]
    coupons: dict[tuple[str, int], _Coupon]  # (code as kept, member id) -> the coupon the till means
    allowed: dict[int, frozenset[int] | None]  # series id -> the stores it allows (None: any)
    mine: dict[tuple[int, int], list] = field(default_factory=dict)  # (coupon, member) -> [count, last]
    # coupon id -> its latest live redemption
    standing: dict[int, CouponRedemption | _Redemption] = field(default_factory=dict)
    rates: dict[int, Decimal | DomainError] = field(default_factory=dict)
    series_facts: dict[int, dict] = field(default_factory=dict)
    registered_on: dict[int, object] = field(default_factory=dict)
    plain: dict[int, bool] = field(default_factory=dict)  # series id -> whether `_plainly_allowed` may judge
    discounts: dict[tuple[int, Decimal], Decimal] = field(default_factory=dict)  # (series, bill) -> discount


@dataclass
class ChunkWrites:
    answers: list[tuple[int, str, _Redemption | None, str]] = field(default_factory=list)  # index, code, …, reasons
    redemptions: list[_Redemption] = field(default_factory=list)
    conflicts: list[tuple[OfflineConflict, CouponRedemption | _Redemption | None]] = field(default_factory=list)
    moved: list[_Coupon] = field(default_factory=list)  # once-only coupons redeemed
    kept: list[_Coupon] = field(default_factory=list)  # multi-use coupons redeemed (they stay issued)
    written: list[list] = field(default_factory=list)  # the chunk's answers as its row keeps them


def offline_chunk_apply(*, context: BatchContext, position: int, entries: list[tuple[int, object]]) -> ChunkWrites:
    """Judge and write one chunk of (row index, OfflineRow or None), in the order the rows happened; `position`
    is where its first row is in that order."""
    state = _state_load(context, [row for _index, row in entries if row is not None])
    writes = ChunkWrites()
    for index, row in entries:
        _judge(context, state, writes, index, row)
    _write(context, writes, position)
    return writes


def _batches(values):
    values = list(values)
    for start in range(0, len(values), LOOKUP_BATCH):
        yield values[start : start + LOOKUP_BATCH]


def _array_literal(values) -> str:
    """A PostgreSQL array literal of `values` (ints, or texts quoted), to go as one text parameter: psycopg's own
    array dumper checks each element with a regular expression, a second or so a 100,000-row batch."""
    if all(type(value) is int for value in values):
        return int_array_literal(values)
    quoted = ('"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"' for value in values)
    return "{" + ",".join(quoted) + "}"


def _where_in(queryset, column: str, values):
    """`queryset` filtered to rows whose `column` is one of `values` (`column__in_array`), the values sent as one
    array literal on PostgreSQL."""
    if connection.vendor != "postgresql":
        return queryset.filter(**{f"{column}__in_array": values})
    db_type = queryset.model._meta.get_field(column).db_type(connection) or ""
    kind = "bigint" if "int" in db_type or "serial" in db_type else "text"  # as `__in_array` types it
    table = queryset.model._meta.db_table
    return queryset.extra(where=[f'"{table}"."{column}" = ANY(%s::{kind}[])'], params=[_array_literal(values)])


def _state_load(context: BatchContext, rows) -> _State:
    members = {}
    for batch in _batches({row.member for row in rows}):
        members.update((m.external_id, m) for m in _where_in(Member.objects.all(), "external_id", batch))
    wanted = {(redemption_code(row.code), members[row.member].pk) for row in rows if row.member in members}
    coupons = _coupons_read(wanted)
    state = _State(members=members, coupons=coupons, allowed=_allowed_stores(coupons.values()))
    state.mine = _member_redemptions(coupons.values(), {member.id for member in members.values()})
    state.standing = _standing_redemptions(coupons.values())
    return state


def _coupons_read(wanted: set[tuple[str, int]]) -> dict[tuple[str, int], Coupon]:
    """The coupon each (code, member) means, as `coupon_for_redemption` picks it: the code's own row, else the
    member's row of a common code, else the newest row of that common code; locked, with their series."""
    codes = {code for code, _member in wanted}
    own = {}
    for batch in _batches(codes):
        own.update(_where_in(Coupon.objects.filter(is_common=False), "code", batch).values_list("code", "pk"))
    common = codes - own.keys()
    members_of = {}
    newest = {}
    if common:
        member_ids = {member for code, member in wanted if code in common}
        for batch in _batches(common):
            rows = Coupon.objects.filter(code__in_array=batch, is_common=True)
            for code, member, pk in rows.filter(member_id__in_array=list(member_ids)).values_list(
                "code", "member_id", "pk"
            ):
                members_of[(code, member)] = pk
            newest.update(rows.values("code").annotate(newest=Max("pk")).values_list("code", "newest"))
    picked = {}
    for code, member in wanted:
        pk = own.get(code) or members_of.get((code, member)) or newest.get(code)
        if pk is not None:
            picked[(code, member)] = pk
    loaded = {}
    for batch in _batches(sorted(set(picked.values()))):
        locked = _where_in(Coupon.objects.all(), "id", batch).order_by("pk").select_for_update()
        loaded.update((values[0], _Coupon(*values)) for values in locked.values_list(*COUPON_COLUMNS))
    _series_attach(loaded.values())
    return {key: loaded[pk] for key, pk in picked.items() if pk in loaded}


def _series_attach(coupons) -> None:
    """Each coupon's series, one object a series; those with a redemption limit locked after the coupons (the
    till's order), so the counter the rules see is the one the chunk adds to."""
    ids = {coupon.series_id for coupon in coupons}
    series = CouponSeries.objects.in_bulk(list(ids))
    limited = [pk for pk, one in series.items() if one.redemption_series_limit is not None]
    if limited:
        counts = CouponSeries.objects.filter(pk__in=limited).select_for_update().values_list("pk", "redeemed_count")
        for pk, count in counts.order_by("pk"):
            series[pk].redeemed_count = count
    for coupon in coupons:
        coupon.series = series[coupon.series_id]


def _allowed_stores(coupons) -> dict[int, frozenset[int] | None]:
    restricted = {coupon.series_id for coupon in coupons if coupon.series.redemption_stores_type}
    allowed = defaultdict(set)
    if restricted:
        pairs = CouponSeries.objects.filter(pk__in=restricted).values_list("pk", "redemption_stores")
        for pk, store_id in pairs:
            if store_id is not None:
                allowed[pk].add(store_id)
    return {pk: frozenset(allowed[pk]) if allowed.get(pk) else None for pk in {c.series_id for c in coupons}}


def _counted(series: CouponSeries) -> bool:
    """Whether the rules read the member's redemptions of a coupon of `series` (as `redemption_facts` does)."""
    return series.multi_use and bool(series.redemption_max_per_member or series.redemption_min_gap_days)


def _member_redemptions(coupons, member_ids) -> dict[tuple[int, int], list]:
    ids = [coupon.pk for coupon in coupons if _counted(coupon.series)]
    mine = {}
    for batch in _batches(ids):
        live = CouponRedemption.objects.filter(coupon_id__in_array=batch, member_id__in_array=list(member_ids),
                                               is_reversed=False)  # fmt: skip
        for coupon, member, count, last in (
            live.values("coupon_id", "member_id").annotate(count=Count("id"), last=Max("redeemed_at"))
            .values_list("coupon_id", "member_id", "count", "last")
        ):  # fmt: skip
            mine[(coupon, member)] = [count, last]
    return mine


def _standing_redemptions(coupons) -> dict[int, CouponRedemption]:
    """The latest live redemption of each redeemed coupon: the one an offline use of it conflicts with."""
    ids = [coupon.pk for coupon in coupons if coupon.status == Status.REDEEMED]
    standing = {}
    for batch in _batches(ids):
        live = CouponRedemption.objects.filter(coupon_id__in_array=batch, is_reversed=False)
        for redemption in live.only("pk", "coupon_id", "store_id", "redeemed_at").order_by(
            "coupon_id", "-redeemed_at", "-id"
        ):
            standing.setdefault(redemption.coupon_id, redemption)
    return standing


def _series_facts(state: _State, series: CouponSeries) -> dict:
    """The facts a series gives every redemption of its coupons, as `redemption_facts` takes them; once a chunk."""
    if series.id not in state.series_facts:
        allowed = state.allowed.get(series.id)
        state.series_facts[series.id] = {
            "allow_anyone": series.allow_anyone,
            "multi_use": series.multi_use,
            "max_per_member": series.redemption_max_per_member,
            "allowed_store_ids": allowed,
            "min_bill": series.min_bill,
            "max_bill": series.max_bill,
            "days_of_week": tuple(series.days_of_week) if series.days_of_week is not None else None,
            "days_of_month": tuple(series.days_of_month) if series.days_of_month is not None else None,
            "hours": tuple(series.hours) if series.hours is not None else None,
            "min_gap_days": series.redemption_min_gap_days,
            "series_limit": series.redemption_series_limit,
            "registered_from": series.new_members_registered_from,
            "registered_to": series.new_members_registered_to,
            "max_transactions": series.new_members_max_transactions,
        }
    return state.series_facts[series.id]


def _registered_on(state: _State, member: Member):
    if member.id not in state.registered_on:
        state.registered_on[member.id] = timezone.localdate(member.registered_at) if member.registered_at else None
    return state.registered_on[member.id]


def _facts(context: BatchContext, state: _State, coupon: _Coupon, member: Member, row) -> rules.RedemptionFacts:
    """The facts `redemption_facts` reads, taken from the chunk's state instead of one query each."""
    series = coupon.series
    settings = _series_facts(state, series)
    count, last = state.mine.get((coupon.pk, member.id), (0, None)) if _counted(series) else (0, None)
    return rules.RedemptionFacts(
        at=row.redeemed_at,
        local_at=row.redeemed_at.astimezone(context.zone),
        status=coupon.status,
        is_owner=coupon.member_id == member.id,
        bill_amount=row.bill_amount,
        store_lineage_ids=context.lineage_ids if settings["allowed_store_ids"] is not None else frozenset(),
        expires_at=coupon.expires_at,
        redeemable_from=coupon.redeemable_from,
        member_redemptions=count,
        member_last_redeemed_at=last,
        series_redeemed=series.redeemed_count,
        member_registered_on=_registered_on(state, member),
        member_transactions=member.transaction_count,
        time_window=context.window,
        held_by_checkout=coupon.held_by_checkout,
        held_until=coupon.held_until,
        checkout_id=None,
        now=context.now,
        **settings,
    )


def _plain_series(context: BatchContext, state: _State, series: CouponSeries) -> bool:
    """Whether the series leaves only the per-row rules `_plainly_allowed` checks: once-only, no calendar, no limit,
    no new-member terms, and this store allowed (it is the batch's one store); once a chunk."""
    plain = state.plain.get(series.id)
    if plain is None:
        settings = _series_facts(state, series)
        plain = state.plain[series.id] = (
            not settings["multi_use"]
            and not rules.store_blocks(settings["allowed_store_ids"], context.lineage_ids)
            and settings["days_of_week"] is None and settings["days_of_month"] is None and settings["hours"] is None
            and settings["series_limit"] is None
            and settings["registered_from"] is None and settings["registered_to"] is None
            and settings["max_transactions"] is None
        )  # fmt: skip
    return plain


def _plainly_allowed(context: BatchContext, state: _State, coupon: _Coupon, member: Member, row) -> bool:
    """True only when `rules.redemption_reasons` would find nothing against the row: the common row (an issued,
    unheld coupon of a plain series, the member's own, in its dates and the window, a bill in bounds), judged
    without building its facts. False says nothing: the row then goes through the rules."""
    if coupon.status != Status.ISSUED or coupon.held_by_checkout is not None:
        return False
    if not _plain_series(context, state, coupon.series):
        return False
    at = row.redeemed_at
    series = coupon.series
    return (
        context.window.contains(at)
        and (coupon.expires_at is None or at <= coupon.expires_at)
        and (coupon.redeemable_from is None or at >= coupon.redeemable_from)
        and (coupon.member_id == member.id or series.allow_anyone)
        and rules.bill_reason(row.bill_amount, series.min_bill, series.max_bill) is None
    )


def _discount(state: _State, series: CouponSeries, bill_amount: Decimal, rate: Decimal) -> Decimal:
    """The rules' discount for this series and bill (the same for every row with that bill), once a chunk."""
    key = (series.id, bill_amount)
    amount = state.discounts.get(key)
    if amount is None:
        amount = state.discounts[key] = rules.discount_amount(
            discount_type=series.discount_type, value=series.discount_value, bill_amount=bill_amount, rate=rate
        )
    return amount


def _rate(context: BatchContext, state: _State, series: CouponSeries) -> Decimal:
    """The series' exchange rate into the store's currency (1 but for a fixed discount), read once a chunk."""
    if series.id not in state.rates:
        try:
            rate = Decimal(1)
            if series.discount_type == CouponSeries.DiscountType.FIXED:
                rate = exchange_rate(from_currency=series.discount_currency, to_currency=context.currency)
            state.rates[series.id] = rate
        except DomainError as exc:
            state.rates[series.id] = exc
    found = state.rates[series.id]
    if isinstance(found, DomainError):
        raise found
    return found


def _judge(context: BatchContext, state: _State, writes: ChunkWrites, index: int, row) -> None:
    if row is None:
        writes.answers.append((index, "", None, MALFORMED_ROW))
        return
    member = state.members.get(row.member)
    if member is None:
        writes.answers.append((index, row.code, None, MEMBER_NOT_FOUND))
        return
    coupon = state.coupons.get((redemption_code(row.code), member.id))
    try:
        redemption = _redeem(context, state, coupon, member, row)
    except DomainError as exc:
        reasons = exc.reasons or [exc.code]
        writes.answers.append((index, row.code, None, " ".join(reasons)))
        if rules.ALREADY_REDEEMED in reasons:
            writes.conflicts.append((_conflict(context, index, row, coupon, member), state.standing.get(coupon.pk)))
        return
    writes.redemptions.append(redemption)
    (writes.kept if coupon.series.multi_use else writes.moved).append(coupon)
    writes.answers.append((index, row.code, redemption, ""))


def _refuse(reasons: list[str]):
    raise RedemptionError(f"The coupon cannot be redeemed: {', '.join(reasons)}.", code=reasons[0], reasons=reasons)


def _redeem(context: BatchContext, state: _State, coupon: _Coupon | None, member: Member, row) -> _Redemption:
    """The redemption the rules allow at `row.redeemed_at`, applied to the chunk's state; refuses as
    `coupon_redeem` would, with every failing reason."""
    if coupon is None:
        _refuse([rules.COUPON_NOT_FOUND])
    series = coupon.series
    if not _plainly_allowed(context, state, coupon, member, row):
        reasons = rules.redemption_reasons(_facts(context, state, coupon, member, row))
        if reasons:
            _refuse(reasons)
    rate = _rate(context, state, series)
    amount = _discount(state, series, row.bill_amount, rate)
    to = None if series.multi_use else Status.REDEEMED
    if to is not None:
        try:
            transition_check(coupon.status, to)  # the transition table stays the authority
        except CouponTransitionError:
            _refuse([rules.ALREADY_REDEEMED])
        coupon.status = to
    redemption = _Redemption(
        coupon_id=coupon.pk, series_id=series.id, member_id=member.id, bill_amount=row.bill_amount,
        discount_amount=amount, exchange_rate=rate if rate != 1 else None, transaction_id=row.transaction_id or "",
        redeemed_at=row.redeemed_at, store_id=context.store.pk,
    )  # fmt: skip
    series.redeemed_count += 1
    if _counted(series):
        mine = state.mine.setdefault((coupon.pk, member.id), [0, None])
        mine[0] += 1
        mine[1] = row.redeemed_at if mine[1] is None else max(mine[1], row.redeemed_at)
    latest = state.standing.get(coupon.pk)
    if latest is None or row.redeemed_at >= latest.redeemed_at:
        state.standing[coupon.pk] = redemption
    return redemption


def _conflict(context, index, row, coupon, member) -> OfflineConflict:
    return OfflineConflict(
        batch=context.batch, row_index=index, code=coupon.code if coupon is not None else row.code,
        coupon_id=coupon.pk if coupon is not None else None,
        member=member, offline_store=context.store, offline_redeemed_at=row.redeemed_at,
    )  # fmt: skip


def _write(context: BatchContext, writes: ChunkWrites, position: int) -> None:
    now = timezone.now()
    _coupons_move(context, writes.moved, now)
    # What the till's redemption clears beside the move: a reversal's mark, and a lapsed hold.
    cleared = [c.pk for c in writes.moved if c.is_reversed or c.held_by_checkout is not None]
    if cleared:
        Coupon.objects.filter(pk__in_array=cleared).update(is_reversed=False, held_by_checkout=None, held_until=None)
    unmarked = [c.pk for c in writes.kept if c.is_reversed]
    if unmarked:
        Coupon.objects.filter(pk__in_array=unmarked).update(is_reversed=False)
    for coupon in writes.moved + writes.kept:
        coupon.is_reversed = False
    for coupon in writes.moved:
        coupon.held_by_checkout = coupon.held_until = None
    counts = defaultdict(int)
    for redemption in writes.redemptions:
        counts[redemption.series_id] += 1
    for series_id, count in counts.items():
        CouponSeries.objects.filter(pk=series_id).update(redeemed_count=F("redeemed_count") + count)
    actor = context.actor
    same = {"store_id": context.store.pk, "currency": context.currency, "actor": actor.name, "channel": actor.channel,
            "is_reversed": False}  # fmt: skip
    ids = rows_copy(CouponRedemption, REDEMPTION_FIELDS, [
        (r.coupon_id, r.series_id, r.member_id, r.bill_amount, r.discount_amount, r.exchange_rate, r.transaction_id,
         r.redeemed_at)
        for r in writes.redemptions
    ], same=same, with_ids=True)  # fmt: skip
    for redemption, pk in zip(writes.redemptions, ids, strict=True):
        redemption.pk = pk
    _redeemed_events(writes.redemptions, at=now)
    for conflict, online in writes.conflicts:
        if online is not None:
            conflict.online_redemption_id = online.pk
            conflict.online_store_id = online.store_id
            conflict.online_redeemed_at = online.redeemed_at
    OfflineConflict.objects.bulk_create(conflict for conflict, _online in writes.conflicts)
    writes.written = answers = [
        [index, code, redemption.pk if redemption is not None else None, reasons]
        for index, code, redemption, reasons in writes.answers
    ]
    OfflineBatchChunk.objects.create(batch=context.batch, position=position, row_count=len(answers), answers=answers)


def _coupons_move(context: BatchContext, coupons: list[_Coupon], now: datetime) -> None:
    """The once-only coupons' moves to redeemed, with their events, through the status writer's set form: on
    PostgreSQL its move as CTEs of one statement, elsewhere its UPDATE and events."""
    if not coupons:
        return
    ids = [coupon.pk for coupon in coupons]
    moving = {"from_status": Status.ISSUED, "to": Status.REDEEMED, "actor": context.actor, "reason": "redeemed"}
    if connection.vendor == "postgresql":
        move = coupons_move_statement(
            old=moving["from_status"], to=moving["to"], where="id = ANY(%s::bigint[])",
            where_params=[_array_literal(ids)], actor=context.actor, reason=moving["reason"], at=now,
        )  # fmt: skip
        with connection.cursor() as cursor:
            cursor.execute(f"WITH {move.sql}\nSELECT count(*) FROM moved", move.params)
            (moved,) = cursor.fetchone()
    else:
        moved = coupons_transition(**moving, queryset=Coupon.objects.filter(pk__in_array=ids), at=now)
    if moved != len(ids):  # the rows are locked: another writer cannot have moved one
        raise CouponTransitionError("A coupon of the batch moved while it was locked.", reasons=["moved"])


def _redeemed_events(redemptions: list[_Redemption], *, at: datetime) -> None:
    """One `coupon.redeemed` event per redemption, with the payload the till's redemption gives it (the coupon's,
    and the redemption's id and transaction), in one INSERT … SELECT over the redemption rows."""
    if not redemptions:
        return
    data = {
        name: F(f"coupon__{value.name}") if isinstance(value, F) else value
        for name, value in coupon_data().items()
    }  # fmt: skip
    data.update(redemption_id=F("pk"), transaction_id=F("transaction_id"))
    events_emit_from_query(
        type=events.COUPON_REDEEMED, object_type=COUPON_OBJECT, object_id="coupon_id", data=data, at=at,
        queryset=_where_in(CouponRedemption.objects.all(), "id", [redemption.pk for redemption in redemptions]),
    )  # fmt: skip


def batch_context(*, batch: OfflineBatch, store: OrgEntity, actor: Actor) -> BatchContext:
    """The chunk's shared context, read when the chunk starts (its clock too, as each row's redemption reads it)."""
    now = timezone.now()
    return BatchContext(batch=batch, store=store, lineage_ids=frozenset(org_entity_lineage_ids(store)),
                        currency=store_context(store).currency, window=client_time_window(now), now=now,
                        zone=store_local_time(store, now).tzinfo,
                        actor=actor)  # fmt: skip
