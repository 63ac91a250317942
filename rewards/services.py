"""Every write on rewards and certificate codes: redeem, award, reserve, assign, fulfil, generate."""

import secrets

from django.db import IntegrityError, connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from audit.models import AuditEvent
from audit.services import audit_created, audit_record
from config.actors import Actor
from members.models import Member, PointsEntry
from members.services import points_post
from webhooks.payloads import reward_redemption_emit

from . import rules
from .exceptions import CertificateCodeError, CodeGenerationError, RewardError
from .lifecycle import certificate_code_transition, certificate_codes_transition
from .models import CertificateCode, Reward, RewardRedemption

Status = CertificateCode.Status
Kind = RewardRedemption.Kind


def reward_create(
    *, external_id: str, name: str, cost_points: int, actor: Actor, type: str = Reward.Type.CERTIFICATE, active=True
) -> Reward:
    try:
        with transaction.atomic():
            reward = Reward.objects.create(
                external_id=external_id, name=name, type=type, cost_points=cost_points, active=active
            )
            audit_created(actor=actor, obj=reward)
            return reward
    except IntegrityError as exc:
        raise RewardError(f"A reward with external id {external_id!r} exists already.", code="reward_exists") from exc


# --- code status (changed only in lifecycle) ------------------------------------------------------


def certificate_code_fulfill(*, code: CertificateCode, actor: Actor, reason: str = "") -> CertificateCode:
    """Mark a redeemed or awarded code fulfilled (shipped, used up): anything else is refused with 409."""
    return certificate_code_transition(code=code, new=Status.FULFILLED, actor=actor, reason=reason)


def certificate_codes_fulfill(*, codes: QuerySet, actor: Actor, reason: str = "") -> tuple[int, list[tuple[str, str]]]:
    """Mark the redeemed and awarded codes of `codes` fulfilled at once; returns how many were, and the
    (code, status) of each one refused."""
    found = list(codes.order_by("pk").values_list("pk", "code", "status"))
    movable = {pk for pk, _, status in found if rules.code_transition_allowed(status, Status.FULFILLED)}
    fulfilled = certificate_codes_transition(
        rows=CertificateCode.objects.filter(pk__in=movable), new=Status.FULFILLED, actor=actor, reason=reason
    )
    refused = [(code, status) for pk, code, status in found if pk not in movable]
    return fulfilled, refused


def certificate_code_create(*, code: str, reward: Reward | None, actor: Actor) -> CertificateCode:
    """One unused code, as a marketer's import brings it in (generation uses the bulk path below)."""
    if not rules.code_is_well_formed(code):
        raise CodeGenerationError(f"{code!r} is not a valid certificate code.", code="malformed_code")
    if CertificateCode.objects.filter(code=code).exists():
        raise CertificateCodeError(f"Code {code!r} exists already.", code="duplicate_code", http_status=409)
    with transaction.atomic():
        created = CertificateCode.objects.create(code=code, reward=reward, status=Status.UNUSED)
        audit_created(actor=actor, obj=created)
    return created


# --- redemptions -------------------------------------------------------------------------------


def reward_redeem(*, member: Member, reward: Reward, actor: Actor) -> RewardRedemption:
    """The member spends the reward's cost in points and receives an unused code, in one transaction."""
    return _redemption_create(reward=reward, member=member, kind=Kind.REDEMPTION, actor=actor)


def reward_award(*, member: Member, reward: Reward, actor: Actor) -> RewardRedemption:
    """Grant the reward for free: the member receives a code, marked awarded; no points move."""
    return _redemption_create(reward=reward, member=member, kind=Kind.AWARD, actor=actor)


def reward_reserve(*, reward: Reward, actor: Actor, kind: str = Kind.REDEMPTION) -> RewardRedemption:
    """An anonymous redemption (or award): a code is set aside, reserved, until a member is assigned."""
    return _redemption_create(reward=reward, member=None, kind=kind, actor=actor)


def reward_redemption_assign(*, redemption: RewardRedemption, member: Member, actor: Actor) -> RewardRedemption:
    """Give an anonymous redemption to a member: points are spent now (redemption) or not (award)."""
    _ensure_member_active(member)
    reward = redemption.reward
    points = reward.cost_points if redemption.kind == Kind.REDEMPTION else 0
    now = timezone.now()
    with transaction.atomic():
        claimed = RewardRedemption.objects.filter(pk=redemption.pk, member__isnull=True).update(
            member=member, points_spent=points, assigned_at=now
        )
        if not claimed:
            raise RewardError(
                "This redemption already belongs to a member.", code="already_assigned", reasons=["already_assigned"]
            )
        redemption.member, redemption.points_spent, redemption.assigned_at = member, points, now
        _spend(member=member, points=points, reward=reward, redemption=redemption, actor=actor)
        code = CertificateCode.objects.get(redemption=redemption)
        certificate_code_transition(
            code=code,
            new=rules.code_status_for(kind=redemption.kind, member_known=True),
            member=member,
            redemption=redemption,
            actor=actor,
            reason="assigned",
        )
        reward_redemption_emit(redemption=redemption, code=code, at=now)
    redemption.certificate_code = code
    return redemption


def _redemption_create(*, reward: Reward, member: Member | None, kind: str, actor: Actor) -> RewardRedemption:
    if not reward.active:
        raise RewardError("The reward is not active.", code="reward_inactive", reasons=["reward_inactive"])
    if member is not None:
        _ensure_member_active(member)
    points = reward.cost_points if kind == Kind.REDEMPTION and member is not None else 0
    now = timezone.now()
    with transaction.atomic():
        code = _lock_unused_code(reward)
        redemption = RewardRedemption.objects.create(
            reward=reward,
            member=member,
            kind=kind,
            points_spent=points,
            actor=actor.name,
            channel=actor.channel,
            created_at=now,
            assigned_at=now if member is not None else None,
        )
        _spend(member=member, points=points, reward=reward, redemption=redemption, actor=actor)
        certificate_code_transition(
            code=code,
            new=rules.code_status_for(kind=kind, member_known=member is not None),
            member=member,
            redemption=redemption,
            actor=actor,
            reason=kind,
        )
        if member is not None:  # a reserved one is told of when it is assigned
            reward_redemption_emit(redemption=redemption, code=code, at=now)
    redemption.certificate_code = code
    return redemption


def _lock_unused_code(reward: Reward) -> CertificateCode:
    """Lock the lowest unused code of the reward, else of the bank.

    SKIP LOCKED lets concurrent redeemers each take a different code instead of queueing on the
    same row; the conditional UPDATE in the transition still guards the status.
    """
    for scope in ({"reward": reward}, {"reward__isnull": True}):
        code = (
            CertificateCode.objects.filter(status=Status.UNUSED, **scope)
            .order_by("pk")
            .select_for_update(skip_locked=True)
            .first()
        )
        if code is not None:
            return code
    raise RewardError(
        "No unused certificate code is left for this reward or in the bank.",
        code="no_codes_available",
        reasons=["no_codes_available"],
    )


def _spend(*, member, points, reward, redemption, actor) -> None:
    if not points:
        return
    points_post(
        member=member,
        points=-points,
        kind=PointsEntry.Kind.SPEND,
        actor=actor,
        reason=f"Reward {reward.external_id}",
        reference=f"reward-redemption:{redemption.pk}",
    )


def _ensure_member_active(member: Member) -> None:
    if not member.is_active:
        raise RewardError("The member is inactive.", code="member_inactive", reasons=["member_inactive"])


# --- bulk generation ---------------------------------------------------------------------------

GENERATION_CHUNK = 100_000
MAX_TOP_UP_ROUNDS = 20


def certificate_codes_generate(*, count: int, reward: Reward | None, length: int, charset: str, actor: Actor) -> int:
    """Create `count` unused codes, cryptographically random and unique against every code there is.

    Codes are drawn in Python and written a chunk at a time with ON CONFLICT DO NOTHING (COPY into
    a staging table on PostgreSQL); the few that collide with existing codes are topped up by
    drawing again for the shortfall. All or nothing: one transaction. Returns the number created.
    """
    errors = rules.code_generation_problems(count=count, length=length, charset=charset)
    if errors:
        raise CodeGenerationError("The codes cannot be generated as asked.", errors=errors)
    alphabet = rules.CHARSETS[charset]
    insert = _insert_codes_copy if connection.vendor == "postgresql" else _insert_codes_many
    reward_id = reward.pk if reward is not None else None
    created = rounds = 0
    now = timezone.now()
    with transaction.atomic():
        while created < count:
            rounds += 1
            if rounds > MAX_TOP_UP_ROUNDS + count // GENERATION_CHUNK:
                raise CodeGenerationError(
                    "Too many generated codes collided with existing ones; use longer codes.",
                    code="code_space_exhausted",
                    http_status=409,
                )
            batch = random_codes(alphabet=alphabet, length=length, count=min(count - created, GENERATION_CHUNK))
            created += insert(batch, reward_id=reward_id, now=now)
        audit_record(
            actor=actor,
            action=AuditEvent.Action.CREATE,
            obj=reward,
            object_type="rewards.certificatecode" if reward is None else "",
            object_id="bank" if reward is None else "",
            object_repr="Bank of certificate codes" if reward is None else "",
            changes={"codes_generated": [None, created]},
            summary=f"{created:,} certificate codes generated ({length} {charset} characters)",
        )
    return created


def random_codes(*, alphabet: str, length: int, count: int) -> list[str]:
    """`count` distinct codes drawn from the operating system's CSPRNG, without bias.

    Random bytes are mapped onto the alphabet with `bytes.translate`, dropping the top bytes that
    would favour the first characters (rejection sampling), so a million characters cost one call
    instead of a million.
    """
    size = len(alphabet)
    limit = 256 - 256 % size
    table = bytes(ord(alphabet[byte % size]) if byte < limit else 0 for byte in range(256))
    rejected = bytes(range(limit, 256))
    codes: set[str] = set()
    while len(codes) < count:
        wanted = (count - len(codes)) * length
        text = secrets.token_bytes(wanted * 256 // limit + 64).translate(table, rejected).decode("ascii")
        for start in range(0, len(text) - length + 1, length):
            codes.add(text[start : start + length])
            if len(codes) == count:
                break
    return list(codes)


_TABLE = CertificateCode._meta.db_table
_INSERT_COLUMNS = "(code, reward_id, status, created_at, status_changed_at)"


def _insert_codes_copy(codes: list[str], *, reward_id, now) -> int:
    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMP TABLE IF NOT EXISTS rewards_code_staging (code varchar(64)) ON COMMIT DROP")
        cursor.execute("TRUNCATE rewards_code_staging")
        with cursor.cursor.copy("COPY rewards_code_staging (code) FROM STDIN") as copy:
            copy.write("\n".join(codes) + "\n")  # generated codes are [A-Z0-9]: nothing to escape
        cursor.execute(
            # Inserting in code order walks the unique index once instead of touching random pages.
            f"INSERT INTO {_TABLE} {_INSERT_COLUMNS} SELECT code, %s, %s, %s, %s FROM rewards_code_staging "
            "ORDER BY code ON CONFLICT (code) DO NOTHING",
            [reward_id, Status.UNUSED, now, now],
        )
        return cursor.rowcount


def _insert_codes_many(codes: list[str], *, reward_id, now) -> int:
    with connection.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {_TABLE} {_INSERT_COLUMNS} VALUES (%s, %s, %s, %s, %s) ON CONFLICT (code) DO NOTHING",
            [(code, reward_id, Status.UNUSED, now, now) for code in codes],
        )
        return cursor.rowcount
