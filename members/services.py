from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from audit.models import AuditEvent
from audit.services import audit_created, audit_record, audit_updated
from audit.snapshots import snapshot
from config.actors import Actor
from config.ranges import POINTS_BALANCE

from .exceptions import MemberError, PointsError
from .models import Member, OrgEntity, PointsEntry, Segment, TillRefusal

MEMBER_FIELDS = (
    "external_id",
    "email",
    "mobile",
    "user_id",
    "first_name",
    "last_name",
    "birth_date",
    "registered_at",
    "status",
    "transaction_count",
)


def member_create(*, actor: Actor, segments=(), **fields) -> Member:
    member = Member(**{name: value for name, value in fields.items() if name in MEMBER_FIELDS})
    member.full_clean(exclude=["segments"], validate_unique=False)
    try:
        with transaction.atomic():
            member.save()
            if segments:
                member.segments.set(segments)
            audit_created(actor=actor, obj=member)
    except IntegrityError as exc:
        raise MemberError(
            f"A member with external id {member.external_id!r} exists already.", code="member_exists"
        ) from exc
    return member


@transaction.atomic
def member_update(*, member: Member, actor: Actor, segments=None, **fields) -> Member:
    before = snapshot(Member.objects.get(pk=member.pk))
    for name, value in fields.items():
        if name in MEMBER_FIELDS:
            setattr(member, name, value)
    member.full_clean(exclude=["segments"], validate_unique=False)
    try:
        with transaction.atomic():
            member.save()
    except IntegrityError as exc:
        raise MemberError(f"External id {member.external_id!r} is taken.", code="member_exists") from exc
    if segments is not None:
        member.segments.set(segments)
    audit_updated(actor=actor, obj=member, before=before)
    return member


def points_post(
    *, member: Member, points: int, kind: str, actor: Actor, reason: str = "", reference: str = ""
) -> PointsEntry:
    """Add (or, negative, take) points: one ledger line and the balance, in one transaction.

    The balance moves with a conditional UPDATE, so concurrent spends can never take it below zero:
    the one that would is refused with `insufficient_points` and writes nothing; nor does a credit that
    would take the balance past its bound (`points_balance_limit`, config.ranges.POINTS_BALANCE).
    """
    if points == 0:
        raise PointsError("A points entry cannot be zero.", code="zero_points", http_status=400)
    with transaction.atomic():
        updated = Member.objects.filter(
            pk=member.pk, points_balance__gte=-points, points_balance__lte=POINTS_BALANCE.max - points
        ).update(points_balance=F("points_balance") + points)
        if not updated:
            if points > 0:
                raise points_balance_limit_error()
            raise PointsError(
                "The member does not have enough points.",
                code="insufficient_points",
                reasons=["insufficient_points"],
            )
        balance = Member.objects.values_list("points_balance", flat=True).get(pk=member.pk)
        entry = PointsEntry.objects.create(
            member=member,
            points=points,
            balance_after=balance,
            kind=kind,
            reason=reason,
            reference=reference,
            actor=actor.name,
            channel=actor.channel,
        )
    member.points_balance = balance
    return entry


def points_earn_many(
    *, member: Member, lines: list[tuple[int, str]], actor: Actor, reference: str = "", count_purchase: bool = False
) -> list[PointsEntry]:
    """Credit several earned amounts at once (a purchase's awards): `lines` are (points, reason), each positive.

    The same ledger lines and balance as `points_post` once per line, in two statements: the balance moves
    by their sum under the same bound (all or nothing, as a sequence of credits is when any would pass it,
    inside the caller's transaction), and the lines are inserted together, each with the balance it left.
    `count_purchase` counts one more recorded purchase in the balance's UPDATE (`member_transaction_count_increment`).
    """
    if not lines:
        return []
    if any(points <= 0 for points, _ in lines):
        raise PointsError("Earned points must be positive.", code="zero_points", http_status=400)
    total = sum(points for points, _ in lines)
    if connection.vendor == "postgresql":
        return _points_earn_many_in_statement(
            member=member, lines=lines, total=total, actor=actor, reference=reference, count_purchase=count_purchase
        )
    table = Member._meta.db_table
    counted = ", transaction_count = transaction_count + 1" if count_purchase else ""
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET points_balance = points_balance + %s{counted} WHERE id = %s AND points_balance <= %s "
            "RETURNING points_balance",
            [total, member.pk, POINTS_BALANCE.max - total],
        )
        row = cursor.fetchone()
        if row is None:
            raise points_balance_limit_error()
        balance = row[0] - total
        entries = []
        for points, reason in lines:
            balance += points
            entries.append(
                PointsEntry(member=member, points=points, balance_after=balance, kind=PointsEntry.Kind.EARN,
                            reason=reason, reference=reference, actor=actor.name, channel=actor.channel)
            )  # fmt: skip
        PointsEntry.objects.bulk_create(entries)
    member.points_balance = balance
    return entries


def points_balance_limit_error() -> PointsError:
    return PointsError(
        f"The member's balance would pass {POINTS_BALANCE.max:,} points.",
        code="points_balance_limit",
        reasons=["points_balance_limit"],
    )


_ENTRY_COLUMNS = ", ".join(
    PointsEntry._meta.get_field(name).column
    for name in ("member", "points", "balance_after", "kind", "reason", "reference", "shortfall", "actor", "channel",
                 "created_at")
)  # fmt: skip


def points_earn_ctes(*, member_id: int, lines, actor: Actor, reference: str, created_at, count_purchase: bool,
                     gate: str = "") -> tuple[str, list]:  # fmt: skip
    """`points_earn_many` as two CTEs of a data-modifying statement (PostgreSQL), and their parameters: `moved`
    (the balance's move under its bound, and with `count_purchase` one more purchase counted; RETURNING the new
    balance) and `earned` (the ledger lines, written only when the balance moved; RETURNING id, balance_after).
    `gate`, SQL ANDed to the UPDATE's condition, lets a caller write the move only if its own CTEs wrote. No lines
    is a purchase that earned nothing: the count alone moves."""
    running, totals = 0, []
    for points, _ in lines:
        running += points
        totals.append(running)
    total = running
    counted = ", transaction_count = transaction_count + 1" if count_purchase else ""
    sql = f"""moved AS (
    UPDATE {Member._meta.db_table} SET points_balance = points_balance + %s{counted}
    WHERE id = %s AND points_balance <= %s{gate} RETURNING points_balance),
earned AS (
    INSERT INTO {PointsEntry._meta.db_table} ({_ENTRY_COLUMNS})
    SELECT %s, line.points, moved.points_balance - %s + line.running, %s, line.reason, %s, 0, %s, %s, %s
    FROM moved, unnest(%s::bigint[], %s::bigint[], %s::text[]) WITH ORDINALITY AS line(points, running, reason, n)
    ORDER BY line.n RETURNING id, balance_after)"""
    params = [total, member_id, POINTS_BALANCE.max - total, member_id, total, PointsEntry.Kind.EARN, reference,
              actor.name, actor.channel, created_at, [points for points, _ in lines], totals,
              [reason for _, reason in lines]]  # fmt: skip
    return sql, params


def _points_earn_many_in_statement(
    *, member: Member, lines, total: int, actor: Actor, reference: str, count_purchase: bool
) -> list:
    """`points_earn_many` on PostgreSQL: the balance's move and its ledger lines in one statement (the lines are
    inserted only when the balance moved, so a refused credit writes nothing)."""
    created_at = timezone.now()
    ctes, params = points_earn_ctes(member_id=member.pk, lines=lines, actor=actor, reference=reference,
                                    created_at=created_at, count_purchase=count_purchase)  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute(f"WITH {ctes} SELECT id, balance_after FROM earned ORDER BY id", params)
        written = cursor.fetchall()
    if not written:
        raise points_balance_limit_error()
    entries = []
    for (entry_id, balance_after), (points, reason) in zip(written, lines, strict=True):
        entry = PointsEntry(id=entry_id, member=member, points=points, balance_after=balance_after,
                            kind=PointsEntry.Kind.EARN, reason=reason, reference=reference, actor=actor.name,
                            channel=actor.channel, created_at=created_at)  # fmt: skip
        entry._state.adding, entry._state.db = False, "default"
        entries.append(entry)
    member.points_balance = entries[-1].balance_after
    return entries


def points_take_back(
    *, member: Member, points: int, actor: Actor, reason: str = "", reference: str = ""
) -> PointsEntry:
    """Take back `points` (positive) that were awarded, e.g. for returned goods: as many as the balance holds.

    The balance stops at zero; what it could not give back is the entry's `shortfall`, so the ledger line
    says both what was taken and what was owed (a line of 0 points when the balance was already empty).
    The member's row is locked first, so the amount taken is decided on the balance it changes.
    """
    if points <= 0:
        raise PointsError("Points taken back must be positive.", code="zero_points", http_status=400)
    with transaction.atomic():
        balance = Member.objects.select_for_update().values_list("points_balance", flat=True).get(pk=member.pk)
        taken = min(points, balance)
        if taken < points:
            reason = f"{reason}: {points - taken:,} points not taken back, the balance was too low".lstrip(": ")
        if taken:
            Member.objects.filter(pk=member.pk).update(points_balance=F("points_balance") - taken)
        entry = PointsEntry.objects.create(
            member=member,
            points=-taken,
            balance_after=balance - taken,
            shortfall=points - taken,
            kind=PointsEntry.Kind.RETURN,
            reason=reason,
            reference=reference,
            actor=actor.name,
            channel=actor.channel,
        )
    member.points_balance = balance - taken
    return entry


@transaction.atomic
def points_adjust(*, member: Member, points: int, reason: str, actor: Actor) -> PointsEntry:
    """A manual adjustment: the ledger line, and a line in the member's history with the balance before and after."""
    entry = points_post(member=member, points=points, kind=PointsEntry.Kind.ADJUSTMENT, reason=reason, actor=actor)
    audit_record(
        actor=actor,
        action=AuditEvent.Action.POINTS_ADJUST,
        obj=member,
        changes={"points_balance": [entry.balance_after - points, entry.balance_after]},
        summary=f"{points:+,} points" + (f": {reason}" if reason else ""),
    )
    return entry


def segment_create(*, code: str, name: str, actor: Actor) -> Segment:
    try:
        with transaction.atomic():
            segment = Segment.objects.create(code=code, name=name)
            audit_created(actor=actor, obj=segment)
            return segment
    except IntegrityError as exc:
        raise MemberError(f"Segment {code!r} exists already.", code="segment_exists") from exc


def org_entity_create(
    *,
    actor: Actor,
    code: str,
    type: str,
    name: str,
    parent: OrgEntity | None = None,
    concept: OrgEntity | None = None,
    time_zone: str = "UTC",
    currency: str = "USD",
) -> OrgEntity:
    allowed_parents = {
        OrgEntity.Type.TILL: {OrgEntity.Type.STORE},
        OrgEntity.Type.STORE: {OrgEntity.Type.ZONE, OrgEntity.Type.CONCEPT},
        OrgEntity.Type.ZONE: {OrgEntity.Type.CONCEPT},
        OrgEntity.Type.CONCEPT: set(),
    }
    if parent is not None and parent.type not in allowed_parents[type]:
        raise MemberError(f"A {type} cannot sit inside a {parent.type}.", code="invalid_parent", http_status=400)
    if concept is not None and concept.type != OrgEntity.Type.CONCEPT:
        raise MemberError("`concept` must name a concept.", code="invalid_concept", http_status=400)
    try:
        with transaction.atomic():
            entity = OrgEntity.objects.create(
                code=code,
                type=type,
                name=name,
                parent=parent,
                concept=concept,
                time_zone=time_zone,
                currency=currency.upper(),
            )
            audit_created(actor=actor, obj=entity)
            return entity
    except IntegrityError as exc:
        raise MemberError(f"Org entity {code!r} exists already.", code="org_entity_exists") from exc


def member_transaction_count_increment(*, member: Member) -> None:
    """Count one more recorded purchase for the member (an F() update, safe under concurrency)."""
    Member.objects.filter(pk=member.pk).update(transaction_count=F("transaction_count") + 1)


def till_refusal_record(
    *, member: Member, store: OrgEntity | None, action: str, code: str, reasons: list[str], actor: Actor
) -> TillRefusal:
    """Keep one refused validate or redeem for member care's "Why not?": one INSERT, on refusals only."""
    return TillRefusal.objects.create(
        member=member, store=store, action=action, code=(code or "")[:64], reasons=list(reasons),
        actor=actor.name, channel=actor.channel,
    )  # fmt: skip
