"""Thin adapters over webhooks.services. A send waits at most WEBHOOK_TIMEOUT_SECONDS per round of side-by-side
POSTs and hands over after SEND_BUDGET_SECONDS, so the limits are far from any normal run."""

from celery import shared_task

from config.tasks import TRANSIENT_ERRORS, retry_backoff

from . import services

OPTIONS = {"bind": True, "acks_late": True, "max_retries": 5, "soft_time_limit": 120, "time_limit": 150}


def _run(task, work):
    try:
        return work()
    except TRANSIENT_ERRORS as exc:
        raise task.retry(exc=exc, countdown=retry_backoff(task.request.retries)) from exc


@shared_task(**OPTIONS)
def events_dispatch_task(self) -> int:
    """Fan new events out to the endpoints that want them (woken after each commit that wrote events)."""
    return _run(self, lambda: services.events_dispatch()[0])


@shared_task(**OPTIONS)
def endpoint_deliver_task(self, endpoint_id: int) -> int:
    return _run(self, lambda: services.endpoint_deliver(endpoint_id=endpoint_id))


@shared_task(**OPTIONS)
def deliveries_pump_task(self) -> int:
    """Every minute: what no wake-up reached, retries now due, and claims whose worker died."""
    return _run(self, services.deliveries_pump)


@shared_task(**OPTIONS)
def webhook_events_purge_task(self) -> int:
    return _run(self, services.events_purge)
