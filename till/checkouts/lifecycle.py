"""The one writer of a checkout's status, its transition table and its event."""

from datetime import datetime

from django.utils import timezone

from config.actors import Actor
from config.status import status_move_many, status_swap
from till.checkouts.exceptions import CheckoutTransitionError
from till.checkouts.models import Checkout, CheckoutEvent

Status = Checkout.Status

# A checkout is held until it is committed (paid), canceled (voided before payment) or its holds lapse.
TRANSITIONS: dict[str, set[str]] = {
    Status.HELD: {Status.COMMITTED, Status.CANCELED, Status.EXPIRED},
    Status.COMMITTED: set(),
    Status.CANCELED: set(),
    Status.EXPIRED: set(),
}


def transition_check(old: str, to: str) -> None:
    if to not in TRANSITIONS.get(old, set()):
        raise CheckoutTransitionError(f"A {old} checkout cannot be {to}.", reasons=[old])


def checkout_event(checkout_id: int, *, old: str, new: str, actor: Actor, reason: str = "", at: datetime):
    return CheckoutEvent(
        checkout_id=checkout_id,
        old_status=old,
        new_status=new,
        actor=actor.name[:100],
        channel=actor.channel[:30],
        reason=reason[:255],
        at=at,
    )


def checkout_transition(*, checkout: Checkout, to: str, actor: Actor, reason: str = "", at=None, **changes) -> None:
    """Move one checkout from the status it was read in (compare-and-swap), with its event."""
    old = checkout.status
    transition_check(old, to)
    at = at or timezone.now()
    changes = {"status_changed_at": at, **changes}
    moved = status_swap(
        rows=Checkout.objects.filter(pk=checkout.pk),
        old=old,
        to=to,
        changes=changes,
        event=lambda: checkout_event(checkout.pk, old=old, new=to, actor=actor, reason=reason, at=at),
    )
    if not moved:
        checkout.refresh_from_db(fields=["status"])
        raise CheckoutTransitionError(f"The checkout is {checkout.status} now.", reasons=[checkout.status])
    checkout.status = to
    for name, value in changes.items():
        setattr(checkout, name, value)


def checkouts_transition(*, rows, to: str, actor: Actor, reason: str = "", at=None) -> int:
    """Move every checkout of `rows` the table lets go to `to` (the sweep), with an event each."""
    at = at or timezone.now()
    return status_move_many(
        rows=rows,
        to=to,
        allowed=lambda status: to in TRANSITIONS.get(status, set()),
        changes=lambda old: {"status_changed_at": at},
        event=lambda pk, old: checkout_event(pk, old=old, new=to, actor=actor, reason=reason, at=at),
        skip_locked=True,
    )
