from celery import shared_task

from config.actors import Actor

from .response_services import offer_responses_expire_due


@shared_task(acks_late=True, soft_time_limit=20 * 60, time_limit=25 * 60)
def offer_responses_expire_due_task(*, batch_size: int = 1000) -> int:
    """Expire open offer responses past their expiry; safe to run again or alongside another run."""
    return offer_responses_expire_due(actor=Actor.task("offer_responses_expire_due"), batch_size=batch_size)
