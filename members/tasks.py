from celery import shared_task

from config.actors import Actor

from .selectors import member_get
from .services import points_adjust


@shared_task(acks_late=True)
def points_adjust_task(*, member_external_id: str, points: int, reason: str, actor_name: str) -> int:
    """Adjust a member's points from a job (bulk goodwill credits, imports); returns the new balance."""
    entry = points_adjust(member=member_get(external_id=member_external_id), points=points, reason=reason,
                          actor=Actor.task(actor_name))  # fmt: skip
    return entry.balance_after
