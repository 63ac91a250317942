from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from config.api.cleanup import idempotency_records_purge
from config.api.models import ApiClient, IdempotencyRecord
from jobs.tasks import idempotency_records_purge_task

pytestmark = pytest.mark.django_db


def _record(client, key, *, age_hours):
    record = IdempotencyRecord.objects.create(client=client, key=key, fingerprint="f", response_status=201)
    IdempotencyRecord.objects.filter(pk=record.pk).update(created_at=timezone.now() - timedelta(hours=age_hours))
    return record


@override_settings(IDEMPOTENCY_KEY_TTL_HOURS=24)
def test_idempotency_records_purge_deletes_only_records_past_the_ttl_in_batches():
    client = ApiClient(name="till", role="pos")
    client.set_new_key()
    client.save()
    old = [_record(client, f"old-{n}", age_hours=25) for n in range(3)]
    fresh = _record(client, "fresh", age_hours=23)

    assert idempotency_records_purge(batch_size=2) == 3

    assert list(IdempotencyRecord.objects.values_list("pk", flat=True)) == [fresh.pk]
    assert not IdempotencyRecord.objects.filter(pk__in=[r.pk for r in old]).exists()
    assert idempotency_records_purge_task.delay().get() == 0
