"""The one writer of a certificate code's status, and its event.

The transition table is `rules.CODE_TRANSITIONS`. Every change (a redemption or award drawing a code, an
anonymous redemption assigned, a code fulfilled from the API, the admin or an import) goes through
`certificate_code_transition` (one row) or `certificate_codes_transition` (a set), and each writes its
events with `certificate_code_event`.
"""

from datetime import datetime

from django.db.models import QuerySet
from django.utils import timezone

from config.actors import Actor
from config.status import status_move_many, status_swap
from members.models import Member

from . import rules
from .exceptions import CertificateCodeError
from .models import CertificateCode, CertificateCodeEvent, RewardRedemption

Status = CertificateCode.Status
REASON_LENGTH = CertificateCodeEvent._meta.get_field("reason").max_length
# A code leaving unused joins its own redemption, and a reserved one goes to its own member: those moves carry
# one row's own values, so they go one at a time (certificate_code_transition), never in a set.
ONE_AT_A_TIME_FROM = frozenset({Status.UNUSED, Status.RESERVED})


def certificate_code_event(
    code_id: int, *, old: str, new: str, redemption_id: int | None, actor: Actor, reason: str, at: datetime
) -> CertificateCodeEvent:
    """One status change of a code, not yet saved."""
    return CertificateCodeEvent(
        certificate_code_id=code_id,
        old_status=old,
        new_status=new,
        redemption_id=redemption_id,
        actor=actor.name,
        channel=actor.channel,
        reason=reason[:REASON_LENGTH],
        at=at,
    )


def transition_check(old: str, new: str) -> None:
    if not rules.code_transition_allowed(old, new):
        raise CertificateCodeError(
            f"A {old} certificate code cannot become {new}.", code="illegal_transition", reasons=[old]
        )


def _fulfilled_at(new: str, now: datetime) -> dict:
    return {"fulfilled_at": now} if new == Status.FULFILLED else {}


def certificate_code_transition(
    *,
    code: CertificateCode,
    new: str,
    actor: Actor,
    reason: str = "",
    member: Member | None = None,
    redemption: RewardRedemption | None = None,
) -> CertificateCode:
    """Move a code from the status it has to `new`, if the transition table allows it.

    One conditional UPDATE on the status the caller saw: a concurrent change makes it match no row,
    and that is refused rather than overwritten. Writes the code's event row.
    """
    old = code.status
    transition_check(old, new)
    now = timezone.now()
    changes = {"status_changed_at": now, **_fulfilled_at(new, now)}
    if old == Status.UNUSED:
        # A code drawn from the bank joins the reward it was drawn for.
        changes.update(redemption=redemption, assigned_at=now, reward_id=redemption.reward_id)
    if member is not None:
        changes["member"] = member
    redemption_id = redemption.pk if redemption is not None else code.redemption_id
    moved = status_swap(
        rows=CertificateCode.objects.filter(pk=code.pk),
        old=old,
        to=new,
        changes=changes,
        event=lambda: certificate_code_event(
            code.pk, old=old, new=new, redemption_id=redemption_id, actor=actor, reason=reason, at=now
        ),
    )
    if not moved:
        current = CertificateCode.objects.filter(pk=code.pk).values_list("status", flat=True).first()
        raise CertificateCodeError(
            f"The certificate code changed meanwhile (now {current}).",
            code="illegal_transition",
            reasons=[current or "deleted"],
        )
    code.status = new
    for name, value in changes.items():
        setattr(code, name, value)
    return code


def certificate_codes_transition(*, rows: QuerySet, new: str, actor: Actor, reason: str = "") -> int:
    """Move every code of `rows` whose move to `new` the table allows (fulfilling redeemed and awarded codes),
    with one UPDATE per current status and an event per code; returns how many moved. Unused and reserved codes
    are left as they are (ONE_AT_A_TIME_FROM)."""
    now = timezone.now()
    return status_move_many(
        rows=rows,
        to=new,
        columns=("redemption_id",),
        allowed=lambda old, redemption_id: old not in ONE_AT_A_TIME_FROM and rules.code_transition_allowed(old, new),
        changes=lambda old: {"status_changed_at": now, **_fulfilled_at(new, now)},
        event=lambda pk, old, redemption_id: certificate_code_event(
            pk, old=old, new=new, redemption_id=redemption_id, actor=actor, reason=reason, at=now
        ),
    )
