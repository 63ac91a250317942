"""Redeeming coupons at the till: validate, redeem, reverse (seed 003, redemption settings).

Validation reads the facts and answers every failing rule. Redemption takes the same decision and then
moves a once-only coupon with a conditional UPDATE (`status = 'issued'`) and counts the series'
redemptions with a conditional UPDATE of the series row (`redeemed_count < limit`), so a coupon is
redeemed once and a limit never passed, whatever the concurrency. Each has two entry points:
`coupon_validate` and `coupon_redeem` read the coupon themselves; `coupon_validate_read` and
`coupon_redeem_read` take the coupon the till's one statement already read. Which route a redemption
takes is decided in `coupons.redemption.routes`; the routes are mapped in `coupons.redemption`, and the
statements are in `coupons.redemption.statements`.
"""

from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.db import transaction
from django.db.models import Count, F, Max
from django.utils import timezone

from config.actors import Actor
from config.client_time import client_time_window
from coupons.exceptions import CouponTransitionError, ExchangeRateMissingError, RedemptionError
from coupons.lifecycle.status import coupon_reinstate
from coupons.lifecycle.transitions import transition_check
from coupons.models import Coupon, CouponRedemption, CouponSeries, ExchangeRate
from coupons.redemption import routes, rules
from coupons.redemption import statements as till
from coupons.redemption.routes import Route
from members.models import Member, OrgEntity
from members.selectors import org_entity_lineage_ids
from webhooks import events
from webhooks.payloads import coupon_emit

Status = Coupon.Status


@dataclass(frozen=True)
class Validation:
    coupon: Coupon | None
    reasons: list[str]

    @property
    def valid(self) -> bool:
        return not self.reasons


def coupon_for_redemption(*, code: str, member: Member, lock: bool = False) -> Coupon | None:
    """The coupon a till means by `code`, with its series: the code's own row, or the member's row of a
    common code (else the newest row of that common code). One statement (`till.coupon_with_series`);
    `lock` locks the coupon's row, not the series'.
    """
    return till.coupon_with_series(code=redemption_code(code), member_id=member.pk, lock=lock)


def redemption_code(code: str) -> str:
    """Codes are kept in capitals; a till may send them in any case, with spaces around."""
    return (code or "").strip().upper()


def store_context(store: OrgEntity) -> OrgEntity:
    """A till redeems in its store's time zone and currency."""
    if store.type == OrgEntity.Type.TILL and store.parent_id:
        return store.parent
    return store


def store_local_time(store: OrgEntity, at: datetime) -> datetime:
    try:
        zone = ZoneInfo(store_context(store).time_zone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    return at.astimezone(zone)


def redemption_facts(
    *, coupon: Coupon, series: CouponSeries, member: Member, store: OrgEntity, bill_amount: Decimal, at: datetime,
    checkout_id: int | None = None,
) -> rules.RedemptionFacts:  # fmt: skip
    allowed = None
    lineage = frozenset()
    if series.redemption_stores_type:
        allowed_ids = frozenset(series.redemption_stores.values_list("pk", flat=True))
        if allowed_ids:
            allowed = allowed_ids
            lineage = frozenset(org_entity_lineage_ids(store))
    count, last = 0, None
    if series.multi_use and (series.redemption_max_per_member or series.redemption_min_gap_days):
        mine = CouponRedemption.objects.filter(coupon=coupon, member=member, is_reversed=False).aggregate(
            count=Count("id"), last=Max("redeemed_at")
        )
        count, last = mine["count"], mine["last"]
    return rules.RedemptionFacts(
        at=at,
        local_at=store_local_time(store, at),
        status=coupon.status,
        is_owner=coupon.member_id == member.pk,
        bill_amount=bill_amount,
        allow_anyone=series.allow_anyone,
        multi_use=series.multi_use,
        max_per_member=series.redemption_max_per_member,
        allowed_store_ids=allowed,
        store_lineage_ids=lineage,
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
        time_window=client_time_window(),
        held_by_checkout=coupon.held_by_checkout,
        held_until=coupon.held_until,
        checkout_id=checkout_id,
        now=timezone.now(),
    )


def coupon_validate(
    *, code: str, member: Member, store: OrgEntity, bill_amount: Decimal, at=None, checkout_id: int | None = None
) -> Validation:
    """Every rule that forbids redeeming `code` now; reads the coupon itself."""
    coupon = coupon_for_redemption(code=code, member=member)
    return coupon_validate_read(coupon=coupon, member=member, store=store, bill_amount=bill_amount, at=at,
                                checkout_id=checkout_id)  # fmt: skip


def coupon_validate_read(
    *, coupon: Coupon | None, member: Member, store: OrgEntity, bill_amount: Decimal, at=None,
    checkout_id: int | None = None,
) -> Validation:  # fmt: skip
    """`coupon_validate` for a coupon the caller has already read for this code and member, with its series
    (the till's one statement, `till.till_context`); None when no coupon has the code. `checkout_id`: the
    checkout asking, whose own hold does not count against it."""
    at = at or timezone.now()
    if coupon is None:
        return Validation(coupon=None, reasons=[rules.COUPON_NOT_FOUND])
    facts = redemption_facts(coupon=coupon, series=coupon.series, member=member, store=store, bill_amount=bill_amount,
                             at=at, checkout_id=checkout_id)  # fmt: skip
    return Validation(coupon=coupon, reasons=rules.redemption_reasons(facts))


def exchange_rate(*, from_currency: str, to_currency: str) -> Decimal:
    if not from_currency or from_currency.upper() == to_currency.upper():
        return Decimal(1)
    rate = (
        ExchangeRate.objects.filter(from_currency=from_currency.upper(), to_currency=to_currency.upper())
        .values_list("rate", flat=True)
        .first()
    )
    if rate is None:
        raise ExchangeRateMissingError(
            f"No exchange rate from {from_currency} to {to_currency}; add one under Coupons > Exchange rates.",
            reasons=["exchange_rate_missing"],
        )
    return rate


def discount_for(*, series: CouponSeries, store: OrgEntity, bill_amount: Decimal) -> tuple[Decimal, str, Decimal]:
    """(amount, currency, rate): a fixed discount in another currency converts to the store's currency."""
    currency = store_context(store).currency
    rate = Decimal(1)
    if series.discount_type == CouponSeries.DiscountType.FIXED:
        rate = exchange_rate(from_currency=series.discount_currency, to_currency=currency)
    amount = rules.discount_amount(
        discount_type=series.discount_type, value=series.discount_value, bill_amount=bill_amount, rate=rate
    )
    return amount, currency, rate


def _refuse(reasons):
    raise RedemptionError(f"The coupon cannot be redeemed: {', '.join(reasons)}.", code=reasons[0], reasons=reasons)


def coupon_redeem(
    *,
    code: str,
    member: Member,
    store: OrgEntity,
    bill_amount: Decimal,
    actor: Actor,
    transaction_id: str = "",
    at=None,
    checkout_id: int | None = None,
    line_discounts: dict[str, Decimal] | None = None,
) -> CouponRedemption:
    """Redeem `code` for `member` at `store`, or refuse with every reason that applies; reads the coupon
    itself, locked (the locked route of `coupons.redemption`'s map).

    A till's checkout redeems what it holds: `checkout_id` names it (its own hold does not block it, and
    the redemption clears it), `line_discounts` the discount on each line (`{line_ref: amount}`), whose sum
    is the redemption's discount."""
    return _redeem_locked(code=code, member=member, store=store, bill_amount=bill_amount, actor=actor,
                          transaction_id=transaction_id, at=at or timezone.now(), checkout_id=checkout_id,
                          line_discounts=line_discounts)  # fmt: skip


def coupon_redeem_read(
    *,
    coupon: Coupon | None,
    code: str,
    member: Member,
    store: OrgEntity,
    bill_amount: Decimal,
    actor: Actor,
    transaction_id: str = "",
    at=None,
) -> CouponRedemption:
    """`coupon_redeem` for a coupon the caller has already read, unlocked, for this code and member, with
    its series (the till's one statement); None when no coupon has the code.

    On the swap route (`routes.redeem_route`) the rules run on that read, and one statement moves the
    coupon only if it is still in the status the rules saw, writing its event, the redemption and the
    series counter only if it moved. A lost swap (someone else moved the coupon in between) takes the
    locked route, which answers as the winner left the coupon; so do the other routes.
    """
    at = at or timezone.now()
    if coupon is None:
        _refuse([rules.COUPON_NOT_FOUND])
    if routes.redeem_route(series=coupon.series, unlocked_read=True) is Route.REDEEM_SWAP:
        redemption = _redeem_by_swap(coupon=coupon, member=member, store=store, bill_amount=bill_amount,
                                     actor=actor, transaction_id=transaction_id, at=at)  # fmt: skip
        if redemption is not None:
            return redemption
    return _redeem_locked(code=code, member=member, store=store, bill_amount=bill_amount, actor=actor,
                          transaction_id=transaction_id, at=at)  # fmt: skip


def _redeem_locked(
    *, code, member, store, bill_amount, actor, transaction_id, at, checkout_id=None, line_discounts=None
) -> CouponRedemption:
    """Lock the coupon row first (`SELECT … FOR UPDATE`), and take the decision under the lock."""
    with transaction.atomic():
        # Find and lock the coupon row in one statement (not the joined series): racers for one code
        # queue here and each loser re-reads a redeemed status once the winner commits.
        coupon = coupon_for_redemption(code=code, member=member, lock=True)
        if coupon is None:
            _refuse([rules.COUPON_NOT_FOUND])
        redemption, to = _decide(coupon=coupon, member=member, store=store, bill_amount=bill_amount, actor=actor,
                                 transaction_id=transaction_id, at=at, checkout_id=checkout_id,
                                 line_discounts=line_discounts)  # fmt: skip
        # The coupon, its event, the redemption row and the series counter (under its limit) in one
        # statement on PostgreSQL; the counter comes last so the series row is held only for the commit.
        write = routes.REDEMPTION_WRITES[routes.redeem_route(series=coupon.series, unlocked_read=False)]
        refusal = write(redemption=redemption, to=to, actor=actor, checkout_id=checkout_id)
        if refusal:
            _refuse([refusal])
    return redemption


@dataclass(frozen=True)
class HeldCoupon:
    """A coupon a checkout holds, as its hold recorded it: the row, the eligible lines' amount, each line's discount."""

    coupon_id: int
    code: str
    bill_amount: Decimal
    line_discounts: dict[str, Decimal]


def coupons_redeem_held(
    *, held: list[HeldCoupon], member: Member, store: OrgEntity, actor: Actor, transaction_id: str, checkout_id: int,
    at=None,
) -> list[CouponRedemption]:  # fmt: skip
    """Redeem what a checkout holds, under the caller's transaction, as `coupon_redeem` would each coupon (same
    rules, reasons, events and webhooks), in series then coupon order; refuses with the first coupon's reasons.

    The coupons are read and locked in one statement. The series' counters are not touched: the caller counts
    the redemptions with `series_redemptions_count` as its last statement before committing, so the series rows
    every till shares are locked only for that statement and the commit."""
    at = at or timezone.now()
    coupons = till.coupons_for_update(coupons=[(entry.coupon_id, entry.code) for entry in held])
    if any(entry.coupon_id not in coupons for entry in held):
        _refuse([rules.COUPON_NOT_FOUND])
    ordered = sorted(held, key=lambda entry: (coupons[entry.coupon_id].series_id, entry.coupon_id))
    if routes.writes_in_one_statement():
        return _held_redeem_in_one_statement(ordered, coupons=coupons, member=member, store=store, actor=actor,
                                             transaction_id=transaction_id, checkout_id=checkout_id, at=at)  # fmt: skip
    write = routes.REDEMPTION_WRITES[Route.REDEEM_ORM]
    redemptions = []
    for entry in ordered:
        redemption, to = _decide(coupon=coupons[entry.coupon_id], member=member, store=store,
                                 bill_amount=entry.bill_amount, actor=actor, transaction_id=transaction_id, at=at,
                                 checkout_id=checkout_id, line_discounts=entry.line_discounts)  # fmt: skip
        refusal = write(redemption=redemption, to=to, actor=actor, checkout_id=checkout_id, count=False)
        if refusal:
            _refuse([refusal])
        redemptions.append(redemption)
    return redemptions


def _held_redeem_in_one_statement(ordered, *, coupons, member, store, actor, transaction_id, checkout_id, at):
    """Every held coupon decided on its locked row first (the first refusal answers), then the once-only coupons of
    each status they were read in moved and recorded in one statement (`till.held_redemptions_write`); a multi-use
    coupon, which keeps its status, by its own statement. The writes only add rows the decisions do not read."""
    decided = [
        _decide(coupon=coupons[entry.coupon_id], member=member, store=store, bill_amount=entry.bill_amount,
                actor=actor, transaction_id=transaction_id, at=at, checkout_id=checkout_id,
                line_discounts=entry.line_discounts)
        for entry in ordered
    ]  # fmt: skip
    moves: dict[tuple[str, str], list[CouponRedemption]] = {}
    for redemption, to in decided:
        if to is None:
            refusal = till.redemption_write(redemption=redemption, to=None, actor=actor, checkout_id=checkout_id,
                                            count=False)  # fmt: skip
            if refusal:
                _refuse([refusal])
        else:
            moves.setdefault((redemption.coupon.status, to), []).append(redemption)
    for (old, to), redemptions in moves.items():
        refusal = till.held_redemptions_write(redemptions=redemptions, old=old, to=to, actor=actor,
                                              checkout_id=checkout_id)  # fmt: skip
        if refusal:
            _refuse([refusal])
    return [redemption for redemption, _ in decided]


def series_redemptions_count(*, redemptions: list[CouponRedemption]) -> None:
    """Count `redemptions` on their series (under each series' redemption limit) in one statement; refuses with
    `series_redemption_limit_reached` when a limit would be passed (the caller's transaction then rolls back)."""
    counts: dict[int, tuple[int, int | None]] = {}
    for redemption in redemptions:
        n, limit = counts.get(redemption.series_id, (0, redemption.series.redemption_series_limit))
        counts[redemption.series_id] = (n + 1, limit)
    if len(till.series_counts_write(counts=counts)) < len(counts):
        _refuse([rules.SERIES_REDEMPTION_LIMIT_REACHED])


def _redeem_by_swap(*, coupon, member, store, bill_amount, actor, transaction_id, at) -> CouponRedemption | None:
    """The compare-and-swap redemption of a once-only coupon; None when the swap was lost."""
    redemption, to = _decide(coupon=coupon, member=member, store=store, bill_amount=bill_amount, actor=actor,
                             transaction_id=transaction_id, at=at)  # fmt: skip
    # The write is one statement, atomic on its own; a series limit needs a transaction around it, to
    # roll the coupon's move back when the counter's condition refuses.
    limited = coupon.series.redemption_series_limit is not None
    with transaction.atomic() if limited else nullcontext():
        refusal = routes.REDEMPTION_WRITES[Route.REDEEM_SWAP](redemption=redemption, to=to, actor=actor)
        if refusal == rules.SERIES_REDEMPTION_LIMIT_REACHED:
            _refuse([refusal])
    if refusal == rules.ALREADY_REDEEMED:
        return None
    return redemption


def _decide(
    *, coupon, member, store, bill_amount, actor, transaction_id, at, checkout_id=None, line_discounts=None
) -> tuple[CouponRedemption, str | None]:
    """The redemption the rules allow for `coupon` as read, and the coupon's new status (None: multi-use,
    it stays issued); refuses with every failing reason."""
    series = coupon.series
    facts = redemption_facts(coupon=coupon, series=series, member=member, store=store, bill_amount=bill_amount, at=at,
                             checkout_id=checkout_id)  # fmt: skip
    reasons = rules.redemption_reasons(facts)
    if reasons:
        _refuse(reasons)
    amount, currency, rate = discount_for(series=series, store=store, bill_amount=bill_amount)
    if line_discounts is not None:
        amount = sum(line_discounts.values(), Decimal(0))
    to = None if series.multi_use else Status.REDEEMED
    if to is not None:
        try:
            transition_check(coupon.status, to)  # the transition table stays the authority
        except CouponTransitionError:
            _refuse([rules.ALREADY_REDEEMED])
    redemption = CouponRedemption(
        coupon=coupon,
        series=series,
        member=member,
        store=store,
        bill_amount=bill_amount,
        discount_amount=amount,
        currency=currency,
        exchange_rate=rate if rate != 1 else None,
        transaction_id=transaction_id or "",
        redeemed_at=at,
        actor=actor.name,
        channel=actor.channel,
        line_discounts=_line_discounts_record(line_discounts),
    )
    return redemption, to


def _line_discounts_record(line_discounts: dict[str, Decimal] | None) -> dict[str, str] | None:
    """The discount on each line as JSON (`CouponRedemption.line_discounts`); None for a whole-bill redemption."""
    if line_discounts is None:
        return None
    return {ref: f"{value:.2f}" for ref, value in line_discounts.items()}


def redemption_reverse(*, redemption: CouponRedemption, actor: Actor) -> CouponRedemption:
    """Reverse a redemption: the coupon is reinstated and the counts restored. Reversing twice is a no-op."""
    now = timezone.now()
    with transaction.atomic():
        claimed = CouponRedemption.objects.filter(pk=redemption.pk, is_reversed=False).update(
            is_reversed=True, reversed_at=now
        )
        if claimed:
            coupon = Coupon.objects.select_for_update().get(pk=redemption.coupon_id)
            coupon_reinstate(coupon=coupon, actor=actor, at=now)
            CouponSeries.objects.filter(pk=redemption.series_id, redeemed_count__gt=0).update(
                redeemed_count=F("redeemed_count") - 1
            )
            coupon_emit(type=events.COUPON_REVERSED, coupon_id=coupon.pk, at=now, redemption_id=redemption.pk)
    redemption.refresh_from_db()
    return redemption
