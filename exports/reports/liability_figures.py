"""The liability's figures as of a moment: by reading every coupon (`figures_scanned`), or by carrying a closed
day's figures forward with only the coupons and redemptions that changed since (`figures_carried`).

A coupon's state as of a moment `t` (the report's rules, exports/reports/liability.py): not yet issued, revoked,
redeemed, expired or open. Carrying forward from the end of a closed day `a` to `b` adds, for every coupon whose
state can differ between `a` and `b`, its state at `b` and takes away its state at `a`. Those coupons are:
- the ones with an event since `a` (every write of a coupon records one: issue, redemption, reversal, revoke,
  sweep, transfer), found by the events' time (a BRIN index: events are appended in time order);
- the ones still issued whose expiry date falls between `a` and `b` (the expiry index), the one change that
  happens by the clock alone;
- the ones with a redemption made or reversed since `a`.
Redemptions are carried the same way: the ones made or reversed since `a`, live at `b` minus live at `a`.

A day is closed only once the offline window has passed after it, so no write later than its close can carry a
time inside it. Two writes rewrite a coupon's issue instead of adding to its history: a transfer (issued again to
the other member, `issued_at` moved) and an upload issuing a revoked code again. For those few the state before
the rewrite is read from their events, so what a closed day counted is taken away again exactly: a transferred
coupon counts from its first issue, and a revoked code issued again stays in the revoked figures of the days
before it came back.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import connections, router, transaction
from django.db.models import BooleanField, Case, CharField, Count, Exists, OuterRef, Q, Sum, Value, When
from django.db.models.expressions import RawSQL
from django.utils import timezone

from coupons.models import Coupon, CouponEvent, CouponRedemption, CouponSeries
from members.models import PointsEntry

ZERO = Decimal("0.00")
OPEN, REDEEMED, EXPIRED, REVOKED = "open", "redeemed", "expired", "revoked"
COUNTED = (OPEN, EXPIRED, REVOKED)  # a redeemed coupon shows in the redemptions' figures, not its own
ISSUED, REVOKED_STATUS = Coupon.Status.ISSUED, Coupon.Status.REVOKED


@dataclass
class Figures:
    """Per series: coupons open, expired and revoked (in the series' currency); per series and currency of the
    redemption: redemptions live and their discounts; and the points outstanding."""

    coupons: dict[int, dict[str, int]] = field(default_factory=lambda: defaultdict(lambda: dict.fromkeys(COUNTED, 0)))
    redemptions: dict[tuple[int, str], list] = field(default_factory=lambda: defaultdict(lambda: [0, ZERO]))
    points: int = 0

    def add_coupons(self, series_id: int, state: str | None, count: int) -> None:
        if state in COUNTED:
            self.coupons[series_id][state] += count

    def add_redemptions(self, series_id: int, currency: str, count: int, value: Decimal) -> None:
        totals = self.redemptions[(series_id, currency)]
        totals[0] += count
        totals[1] += value


def end_of_day(as_of: date) -> datetime:
    """The first moment after `as_of`, in the server's time zone."""
    return timezone.make_aware(datetime.combine(as_of + timedelta(days=1), time.min))


def live_redemptions_q(at: datetime) -> Q:
    """Made before `at` and not reversed before it."""
    return Q(redeemed_at__lt=at) & ~Q(is_reversed=True, reversed_at__lt=at)


def live_redemptions(at: datetime):
    return CouponRedemption.objects.filter(live_redemptions_q(at))


def coupon_state(at: datetime, *, redeemed=None):
    """A coupon's state as of `at`, as one CASE: the one statement of the rules, for the ORM and, compiled, for the
    raw SQL over every coupon (`_scanned_coupons_sql`). A multi-use coupon is never redeemed, it stays owed.

    `redeemed` tests that the coupon has a redemption live at `at`. By default, for the few coupons that changed since
    a close, it probes each one's redemptions by the coupon index, so its cost does not grow with all redemptions;
    and past the latest time a till may state (now and its clock's skew), every redemption so far was made before
    `at` and none reversed after it, so a coupon is redeemed then exactly when its status says so: no probe."""
    if redeemed is None:
        if at >= timezone.now() + timedelta(seconds=settings.CLIENT_CLOCK_SKEW_SECONDS):
            redeemed = Q(status=Coupon.Status.REDEEMED)
        else:
            redeemed = Exists(live_redemptions(at).filter(coupon_id=OuterRef("pk")))
    return Case(
        When(Q(issued_at__isnull=True) | Q(issued_at__gte=at), then=Value(None)),
        When(Q(status=REVOKED_STATUS, last_status_change_on__lt=at), then=Value(REVOKED)),
        When(redeemed & Q(series__multi_use=False), then=Value(REDEEMED)),
        When(expires_at__lt=at, then=Value(EXPIRED)),
        default=Value(OPEN),
        output_field=CharField(),
    )


def figures_scanned(at: datetime) -> Figures:
    """Every coupon and redemption read once: three grouped queries."""
    figures = Figures()
    connection = _reading_connection()
    with connection.cursor() as cursor:
        cursor.execute(*_scanned_coupons_sql(connection, at))
        for series_id, state, count in cursor.fetchall():
            figures.add_coupons(series_id, state, count)
    redemptions = live_redemptions(at).values("series_id", "currency")
    for row in redemptions.annotate(n=Count("id"), value=Sum("discount_amount")).order_by():
        figures.add_redemptions(row["series_id"], row["currency"], row["n"], row["value"] or ZERO)
    figures.points = PointsEntry.objects.filter(created_at__lt=at).aggregate(total=Sum("points"))["total"] or 0
    return figures


# The coupons found to have a live redemption by `_scanned_coupons_sql`'s join.
_JOINED_LIVE_REDEMPTION = RawSQL("live.coupon_id IS NOT NULL", (), output_field=BooleanField())


def _scanned_coupons_sql(connection, at: datetime) -> tuple[str, list]:
    """`coupon_state` over every coupon, grouped by series, as SQL and its parameters for `connection`.

    The redeemed test is a join: inside a CASE, PostgreSQL tests a subquery against a hash table only while the
    redeemed coupons fit in work_mem, and past it once per coupon against all of them (minutes at two million
    coupons); a hash join spills to disk instead. Grouped on the two narrow keys only, so the database aggregates in
    a hash table instead of sorting every wide row; the series' details come apart. The ORM has no join to a derived
    table, so the CASE is compiled from `coupon_state` (its columns named by table, as the FROM names them)."""
    coupon, series, redemption = (model._meta.db_table for model in (Coupon, CouponSeries, CouponRedemption))
    query = Coupon.objects.annotate(state=coupon_state(at, redeemed=_JOINED_LIVE_REDEMPTION)).query
    state_sql, state_params = query.get_compiler(connection=connection).compile(query.annotations["state"])
    sql = f"""
        SELECT {coupon}.series_id, {state_sql} AS state, COUNT(*)
          FROM {coupon}
          JOIN {series} ON {series}.id = {coupon}.series_id
          LEFT JOIN (SELECT DISTINCT coupon_id FROM {redemption}
                      WHERE redeemed_at < %s AND (NOT is_reversed OR reversed_at IS NULL OR reversed_at >= %s)
                    ) live ON live.coupon_id = {coupon}.id
         WHERE {coupon}.issued_at < %s
         GROUP BY 1, 2
    """
    at_param = connection.ops.adapt_datetimefield_value(at)
    return sql, [*state_params, at_param, at_param, at_param]


def figures_carried(start: Figures, *, since: datetime, at: datetime) -> Figures:
    """`start` (the figures as of `since`) carried to `at` with what changed between them; `since` <= `at`."""
    figures = Figures(points=start.points)
    for series_id, counts in start.coupons.items():
        for state, count in counts.items():
            figures.add_coupons(series_id, state, count)
    for (series_id, currency), (count, value) in start.redemptions.items():
        figures.add_redemptions(series_id, currency, count, value)

    rewritten = _rewritten_coupons(since)
    touched = Coupon.objects.filter(id__in=_touched_ids(since, at)).exclude(id__in=rewritten)
    moves = touched.annotate(before=coupon_state(since), after=coupon_state(at))
    for row in _by_index(moves.values("series_id", "before", "after").annotate(n=Count("id")).order_by()):
        if row["before"] != row["after"]:
            figures.add_coupons(row["series_id"], row["after"], row["n"])
            figures.add_coupons(row["series_id"], row["before"], -row["n"])
    if rewritten:
        for series_id, before, after in _rewritten_moves(rewritten, since=since, at=at):
            figures.add_coupons(series_id, after, 1)
            figures.add_coupons(series_id, before, -1)

    changed = CouponRedemption.objects.filter(Q(redeemed_at__gte=since) | Q(is_reversed=True, reversed_at__gte=since))
    live_then, live_now = live_redemptions_q(since), live_redemptions_q(at)
    for row in (
        changed.values("series_id", "currency")
        .annotate(
            n_now=Count("id", filter=live_now),
            value_now=Sum("discount_amount", filter=live_now),
            n_then=Count("id", filter=live_then),
            value_then=Sum("discount_amount", filter=live_then),
        )
        .order_by()
    ):
        figures.add_redemptions(
            row["series_id"], row["currency"], row["n_now"] - row["n_then"],
            (row["value_now"] or ZERO) - (row["value_then"] or ZERO),
        )  # fmt: skip
    added = PointsEntry.objects.filter(created_at__gte=since, created_at__lt=at).aggregate(total=Sum("points"))
    figures.points += added["total"] or 0
    return figures


def _reading_connection():
    """The connection the ORM's reads of coupons go to (the replica inside `reads_may_lag`), for the raw SQL."""
    return connections[router.db_for_read(Coupon) or "default"]


def _by_index(queryset) -> list[dict]:
    """The rows of `queryset`, planned as probes by primary key of the coupons that changed.

    They are about one percent of the table (a few days of a year's coupons); PostgreSQL's default cost of a random
    page (4, for spinning disks) prices that many probes above reading the whole table, which grows with the
    program (0.9 s at 2M coupons). The coupons' pages are in memory or on SSD: priced as such, the planner probes.
    """
    connection = connections[queryset.db]
    if connection.vendor != "postgresql":
        return list(queryset)
    with transaction.atomic(using=queryset.db), connection.cursor() as cursor:
        cursor.execute("SET LOCAL random_page_cost = 1.1")
        cursor.execute("SET LOCAL jit = off")
        return list(queryset)


def _touched_ids(since: datetime, at: datetime) -> RawSQL:
    """The coupons whose state may differ between `since` and `at`, as one UNION each arm of which an index answers."""
    event, coupon, redemption = (model._meta.db_table for model in (CouponEvent, Coupon, CouponRedemption))
    adapt = _reading_connection().ops.adapt_datetimefield_value
    since, at = adapt(since), adapt(at)
    return RawSQL(
        f"SELECT coupon_id FROM {event} WHERE at >= %s"
        f" UNION SELECT id FROM {coupon} WHERE status = %s AND expires_at >= %s AND expires_at < %s"
        f" UNION SELECT coupon_id FROM {redemption} WHERE redeemed_at >= %s OR (is_reversed AND reversed_at >= %s)",
        (since, ISSUED, since, at, since, since),
    )


def _rewritten_coupons(since: datetime) -> list[int]:
    """Coupons issued again since `since` without a new row: transfers and revoked codes issued again."""
    events = CouponEvent.objects.filter(at__gte=since, new_status=ISSUED, old_status__in=[ISSUED, REVOKED_STATUS])
    return sorted(set(events.values_list("coupon_id", flat=True)))


def _rewritten_moves(ids: list[int], *, since: datetime, at: datetime):
    """(series, state at `since`, state at `at`) of each rewritten coupon, its earlier states read from its events."""
    coupons = {
        row["id"]: row
        for row in Coupon.objects.filter(id__in=ids).values(
            "id", "series_id", "series__multi_use", "status", "issued_at", "expires_at", "last_status_change_on"
        )
    }
    history = defaultdict(list)
    events = CouponEvent.objects.filter(coupon_id__in=ids).order_by("at", "id")
    for event in events.values("coupon_id", "at", "new_status"):
        history[event["coupon_id"]].append(event)
    redemptions = defaultdict(list)
    rows = CouponRedemption.objects.filter(coupon_id__in=ids)
    for row in rows.values("coupon_id", "redeemed_at", "is_reversed", "reversed_at"):
        redemptions[row["coupon_id"]].append(row)
    for pk, coupon in coupons.items():
        states = [_state_of(coupon, history[pk], redemptions[pk], t) for t in (since, at)]
        if states[0] != states[1]:
            yield coupon["series_id"], states[0], states[1]


def _state_of(coupon: dict, events: list[dict], redemptions: list[dict], at: datetime) -> str | None:
    """`coupon_state` for one coupon in Python; before its current issue, the status its last earlier event gave."""
    if coupon["issued_at"] is None or coupon["issued_at"] >= at:
        earlier = [event for event in events if event["at"] < at]
        if not earlier:
            return None
        status = earlier[-1]["new_status"]
        if status == ISSUED:
            return EXPIRED if coupon["expires_at"] and coupon["expires_at"] < at else OPEN
        return {REVOKED_STATUS: REVOKED, Coupon.Status.REDEEMED: REDEEMED, Coupon.Status.EXPIRED: EXPIRED}.get(status)
    if coupon["status"] == REVOKED_STATUS and coupon["last_status_change_on"] < at:
        return REVOKED
    live = any(row["redeemed_at"] < at and not (row["is_reversed"] and row["reversed_at"] < at) for row in redemptions)
    if live and not coupon["series__multi_use"]:
        return REDEEMED
    if coupon["expires_at"] and coupon["expires_at"] < at:
        return EXPIRED
    return OPEN
