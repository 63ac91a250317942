from django.db.models import Prefetch, QuerySet

from config.ranges import OBJECT_ID

from .models import Delivery, DeliveryAttempt, Endpoint


def endpoint_list() -> QuerySet:
    return Endpoint.objects.order_by("pk")


def endpoint_get(pk: int) -> Endpoint | None:
    return endpoint_list().filter(pk=pk).first() if pk in OBJECT_ID else None


def delivery_list(*, endpoint: Endpoint | None = None) -> QuerySet:
    """Deliveries newest first, with their event and their attempts (no query per row)."""
    rows = Delivery.objects.select_related("event", "endpoint").prefetch_related(
        Prefetch("attempt_log", queryset=DeliveryAttempt.objects.order_by("at", "pk"))
    )
    if endpoint is not None:
        rows = rows.filter(endpoint=endpoint)
    return rows.order_by("-pk")


def delivery_get(pk: int) -> Delivery | None:
    return Delivery.objects.select_related("event", "endpoint").filter(pk=pk).first() if pk in OBJECT_ID else None


def endpoints_disabled() -> QuerySet:
    return Endpoint.objects.filter(active=False).exclude(disabled_reason="").order_by("pk")
