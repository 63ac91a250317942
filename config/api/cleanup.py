"""Removing Idempotency-Key answers once they are past their replay window."""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from .models import IdempotencyRecord


def idempotency_records_purge(*, now: datetime | None = None, batch_size: int = 10_000) -> int:
    """Delete records older than IDEMPOTENCY_KEY_TTL_HOURS, in short batches; returns how many."""
    cutoff = (now or timezone.now()) - timedelta(hours=settings.IDEMPOTENCY_KEY_TTL_HOURS)
    deleted = 0
    while True:
        with transaction.atomic():
            ids = list(
                IdempotencyRecord.objects.filter(created_at__lt=cutoff)
                .order_by("pk")
                .values_list("pk", flat=True)[:batch_size]
            )
            if not ids:
                return deleted
            deleted += IdempotencyRecord.objects.filter(pk__in=ids).delete()[0]
