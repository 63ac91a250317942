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
   answers, one statement each.

The caller runs the chunk in one transaction, holding the batch row locked.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.db.models import Count, F, Max, OuterRef, Subquery
from django.utils import timezone

import config.lookups  # noqa: F401 (registers __in_array)
from config.actors import Actor
from config.client_time import ClientTimeWindow, client_time_window
from config.errors import DomainError
from coupons.exceptions import CouponTransitionError, RedemptionError
from coupons.lifecycle.status import coupons_transition
from coupons.lifecycle.transitions import transition_check
from coupons.models import Coupon, CouponRedemption, CouponSeries
from coupons.redemption import rules
from coupons.redemption.services import exchange_rate, redemption_code, store_context, store_local_time
from members.models import Member, OrgEntity
from members.selectors import org_entity_lineage_ids
from till.offline.exceptions import MALFORMED_ROW, MEMBER_NOT_FOUND
from till.offline.models import OfflineBatch, OfflineBatchAnswer, OfflineConflict
from webhooks import events
from webhooks.payloads import coupons_emit

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
    actor: Actor


@dataclass
class _State:
    """The chunk's preloaded state, which each accepted row updates as the row-at-a-time path's writes did."""

    members: dict[str, Member]
    coupons: dict[tuple[str, int], Coupon]  # (code as kept, member id) -> the coupon the till means
    allowed: dict[int, frozenset[int] | None]  # series id -> the stores it allows (None: any)
    mine: dict[tuple[int, int], list] = field(default_factory=dict)  # (coupon, member) -> [count, last]
    standing: dict[int, CouponRedemption] = field(default_factory=dict)  # coupon id -> its latest live redemption
    rates: dict[int, Decimal | DomainError] = field(default_factory=dict)


@dataclass
class ChunkWrites:
    answers: list[OfflineBatchAnswer] = field(default_factory=list)
    redemptions: list[CouponRedemption] = field(default_factory=list)
    conflicts: list[tuple[OfflineConflict, CouponRedemption | None]] = field(default_factory=list)
    moved: list[Coupon] = field(default_factory=list)  # once-only coupons redeemed
    kept: list[Coupon] = field(default_factory=list)  # multi-use coupons redeemed (they stay issued)


def offline_chunk_apply(*, context: BatchContext, entries: list[tuple[int, object]]) -> ChunkWrites:
    """Judge and write one chunk of (row index, OfflineRow or None), in the order the rows happened."""
    state = _state_load(context, [row for _index, row in entries if row is not None])
    writes = ChunkWrites()
    for index, row in entries:
        _judge(context, state, writes, index, row)
    _write(context, writes)
    return writes


def _batches(values):
    values = list(values)
    for start in range(0, len(values), LOOKUP_BATCH):
        yield values[start : start + LOOKUP_BATCH]


def _state_load(context: BatchContext, rows) -> _State:
    members = {}
    for batch in _batches({row.member for row in rows}):
        members.update((m.external_id, m) for m in Member.objects.filter(external_id__in_array=batch))
    wanted = {(redemption_code(row.code), members[row.member].pk) for row in rows if row.member in members}
    coupons = _coupons_read(wanted)
    series_ids = {coupon.series_id for coupon in coupons.values()}
    _series_lock(coupons.values(), series_ids)
    state = _State(members=members, coupons=coupons, allowed=_allowed_stores(coupons.values()))
    state.mine = _member_redemptions(coupons.values(), {member.pk for member in members.values()})
    state.standing = _standing_redemptions(coupons.values())
    return state


def _coupons_read(wanted: set[tuple[str, int]]) -> dict[tuple[str, int], Coupon]:
    """The coupon each (code, member) means, as `coupon_for_redemption` picks it: the code's own row, else the
    member's row of a common code, else the newest row of that common code; locked, with their series."""
    codes = {code for code, _member in wanted}
    own = {}
    for batch in _batches(codes):
        own.update(Coupon.objects.filter(code__in_array=batch, is_common=False).values_list("code", "pk"))
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
        locked = Coupon.objects.filter(pk__in_array=batch).select_related("series").select_for_update(of=("self",))
        loaded.update((coupon.pk, coupon) for coupon in locked.order_by("pk"))
    return {key: loaded[pk] for key, pk in picked.items() if pk in loaded}


def _series_lock(coupons, series_ids) -> None:
    """The series with a redemption limit, locked after the coupons (the till's order) and read again, so the
    counter the rules see is the one the chunk adds to; every coupon of a series shares one series object."""
    series = {coupon.series_id: coupon.series for coupon in coupons}
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


def _facts(context: BatchContext, state: _State, coupon: Coupon, member: Member, row) -> rules.RedemptionFacts:
    """The facts `redemption_facts` reads, taken from the chunk's state instead of one query each."""
    series = coupon.series
    allowed = state.allowed.get(series.pk)
    count, last = state.mine.get((coupon.pk, member.pk), (0, None)) if _counted(series) else (0, None)
    return rules.RedemptionFacts(
        at=row.redeemed_at,
        local_at=store_local_time(context.store, row.redeemed_at),
        status=coupon.status,
        is_owner=coupon.member_id == member.pk,
        bill_amount=row.bill_amount,
        allow_anyone=series.allow_anyone,
        multi_use=series.multi_use,
        max_per_member=series.redemption_max_per_member,
        allowed_store_ids=allowed,
        store_lineage_ids=context.lineage_ids if allowed is not None else frozenset(),
        min_bill=series.min_bill,
        max_bill=series.max_bill,
        days_of_week=tuple(series.days_of_week) if series.days_of_week is not None else None,
        days_of_month=tuple(series.days_of_month) if series.days_of_month is not None else None,
        hours=tuple(series.hours) if series.hours is not None else None,
        min_gap_days=series.redemption_min_gap_days,
        series_limit=series.redemption_series_limit,
        registered_from=series.new_members_registered_from,
        registered_to=series.new_members_registered_to,
        max_transactions=series.new_members_max_transactions,
        expires_at=coupon.expires_at,
        redeemable_from=coupon.redeemable_from,
        member_redemptions=count,
        member_last_redeemed_at=last,
        series_redeemed=series.redeemed_count,
        member_registered_on=timezone.localdate(member.registered_at) if member.registered_at else None,
        member_transactions=member.transaction_count,
        time_window=context.window,
        held_by_checkout=coupon.held_by_checkout,
        held_until=coupon.held_until,
        checkout_id=None,
        now=context.now,
    )


def _rate(context: BatchContext, state: _State, series: CouponSeries) -> Decimal:
    """The series' exchange rate into the store's currency (1 but for a fixed discount), read once a chunk."""
    if series.pk not in state.rates:
        try:
            rate = Decimal(1)
            if series.discount_type == CouponSeries.DiscountType.FIXED:
                rate = exchange_rate(from_currency=series.discount_currency, to_currency=context.currency)
            state.rates[series.pk] = rate
        except DomainError as exc:
            state.rates[series.pk] = exc
    found = state.rates[series.pk]
    if isinstance(found, DomainError):
        raise found
    return found


def _judge(context: BatchContext, state: _State, writes: ChunkWrites, index: int, row) -> None:
    if row is None:
        writes.answers.append(_answer(context, index, "", [MALFORMED_ROW]))
        return
    member = state.members.get(row.member)
    if member is None:
        writes.answers.append(_answer(context, index, row.code, [MEMBER_NOT_FOUND]))
        return
    coupon = state.coupons.get((redemption_code(row.code), member.pk))
    try:
        redemption = _redeem(context, state, coupon, member, row)
    except DomainError as exc:
        reasons = exc.reasons or [exc.code]
        writes.answers.append(_answer(context, index, row.code, reasons))
        if rules.ALREADY_REDEEMED in reasons:
            writes.conflicts.append((_conflict(context, index, row, coupon, member), state.standing.get(coupon.pk)))
        return
    writes.redemptions.append(redemption)
    (writes.kept if coupon.series.multi_use else writes.moved).append(coupon)
    writes.answers.append(_answer(context, index, row.code, [], redemption=redemption))


def _refuse(reasons: list[str]):
    raise RedemptionError(f"The coupon cannot be redeemed: {', '.join(reasons)}.", code=reasons[0], reasons=reasons)


def _redeem(context: BatchContext, state: _State, coupon: Coupon | None, member: Member, row) -> CouponRedemption:
    """The redemption the rules allow at `row.redeemed_at`, applied to the chunk's state; refuses as
    `coupon_redeem` would, with every failing reason."""
    if coupon is None:
        _refuse([rules.COUPON_NOT_FOUND])
    series = coupon.series
    reasons = rules.redemption_reasons(_facts(context, state, coupon, member, row))
    if reasons:
        _refuse(reasons)
    rate = _rate(context, state, series)
    amount = rules.discount_amount(discount_type=series.discount_type, value=series.discount_value,
                                   bill_amount=row.bill_amount, rate=rate)  # fmt: skip
    to = None if series.multi_use else Status.REDEEMED
    if to is not None:
        try:
            transition_check(coupon.status, to)  # the transition table stays the authority
        except CouponTransitionError:
            _refuse([rules.ALREADY_REDEEMED])
        coupon.status = to
    redemption = CouponRedemption(
        coupon=coupon, series=series, member=member, store=context.store, bill_amount=row.bill_amount,
        discount_amount=amount, currency=context.currency, exchange_rate=rate if rate != 1 else None,
        transaction_id=row.transaction_id or "", redeemed_at=row.redeemed_at, actor=context.actor.name,
        channel=context.actor.channel,
    )  # fmt: skip
    series.redeemed_count += 1
    if _counted(series):
        mine = state.mine.setdefault((coupon.pk, member.pk), [0, None])
        mine[0] += 1
        mine[1] = row.redeemed_at if mine[1] is None else max(mine[1], row.redeemed_at)
    latest = state.standing.get(coupon.pk)
    if latest is None or row.redeemed_at >= latest.redeemed_at:
        state.standing[coupon.pk] = redemption
    return redemption


def _answer(context, index, code, reasons, redemption=None) -> OfflineBatchAnswer:
    answer = OfflineBatchAnswer(batch=context.batch, row_index=index, code=code, reasons=" ".join(reasons))
    answer.accepted_redemption = redemption  # its id is known once the redemptions are written
    return answer


def _conflict(context, index, row, coupon, member) -> OfflineConflict:
    return OfflineConflict(
        batch=context.batch, row_index=index, code=coupon.code if coupon is not None else row.code, coupon=coupon,
        member=member, offline_store=context.store, offline_redeemed_at=row.redeemed_at,
    )  # fmt: skip


def _write(context: BatchContext, writes: ChunkWrites) -> None:
    now = timezone.now()
    actor = context.actor
    if writes.moved:
        ids = [coupon.pk for coupon in writes.moved]
        moved = coupons_transition(from_status=Status.ISSUED, to=Status.REDEEMED, actor=actor, reason="redeemed",
                                   queryset=Coupon.objects.filter(pk__in_array=ids), at=now)  # fmt: skip
        if moved != len(ids):  # the rows are locked: another writer cannot have moved one
            raise CouponTransitionError("A coupon of the batch moved while it was locked.", reasons=["moved"])
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
    CouponRedemption.objects.bulk_create(writes.redemptions)
    _redeemed_events(writes.redemptions, at=now)
    for conflict, online in writes.conflicts:
        if online is not None:
            conflict.online_redemption_id = online.pk
            conflict.online_store_id = online.store_id
            conflict.online_redeemed_at = online.redeemed_at
    OfflineConflict.objects.bulk_create(conflict for conflict, _online in writes.conflicts)
    for answer in writes.answers:
        if answer.accepted_redemption is not None:
            answer.redemption_id = answer.accepted_redemption.pk
    OfflineBatchAnswer.objects.bulk_create(writes.answers)


def _redeemed_events(redemptions: list[CouponRedemption], *, at: datetime) -> None:
    """One `coupon.redeemed` event per redemption, as the till's redemption writes it: one INSERT … SELECT per
    round (a multi-use coupon redeemed twice in a chunk has its second event in the second round)."""
    rounds: list[dict[int, int]] = []
    for redemption in redemptions:
        for one in rounds:
            if redemption.coupon_id not in one:
                one[redemption.coupon_id] = redemption.pk
                break
        else:
            rounds.append({redemption.coupon_id: redemption.pk})
    for one in rounds:
        ids = list(one.values())
        of_the_coupon = CouponRedemption.objects.filter(coupon_id=OuterRef("pk"), pk__in_array=ids)
        coupons_emit(
            type=events.COUPON_REDEEMED,
            queryset=Coupon.objects.filter(pk__in_array=list(one)),
            at=at,
            redemption_id=Subquery(of_the_coupon.values("pk")[:1]),
            transaction_id=Subquery(of_the_coupon.values("transaction_id")[:1]),
        )


def batch_context(*, batch: OfflineBatch, store: OrgEntity, actor: Actor) -> BatchContext:
    """The chunk's shared context, read when the chunk starts (its clock too, as each row's redemption reads it)."""
    now = timezone.now()
    return BatchContext(batch=batch, store=store, lineage_ids=frozenset(org_entity_lineage_ids(store)),
                        currency=store_context(store).currency, window=client_time_window(now), now=now,
                        actor=actor)  # fmt: skip
