"""Dispatchers side by side (PostgreSQL): each writes only the events it locked, so one never waits for another."""

import threading

import pytest
from django.db import connection, transaction

from tests.concurrency import WAIT_SECONDS
from webhooks import events
from webhooks.models import Delivery, Event
from webhooks.services import events_dispatch

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_a_dispatcher_passes_over_the_events_another_holds_and_writes_only_its_own(make_endpoint):
    endpoint, _secret = make_endpoint()
    # Written as rows, not emitted: an emit wakes the dispatcher at its commit, which would take them all first.
    emitted = Event.objects.bulk_create(
        Event(type=events.COUPON_ISSUED, object_type="coupon", object_id=str(n), data={}) for n in range(1, 7)
    )
    held_ids = [emitted[2].pk, emitted[3].pk]  # in the middle of the range the other run claims
    locked, release = threading.Event(), threading.Event()

    def other_dispatcher_holding():
        try:
            with transaction.atomic():
                list(Event.objects.select_for_update().filter(pk__in=held_ids))
                locked.set()
                release.wait(WAIT_SECONDS)
        finally:
            connection.close()

    holder = threading.Thread(target=other_dispatcher_holding)
    holder.start()
    assert locked.wait(WAIT_SECONDS)
    outcome = {}

    def dispatch():
        try:
            outcome["dispatched"] = events_dispatch()
        finally:
            connection.close()

    dispatcher = threading.Thread(target=dispatch)
    dispatcher.start()
    dispatcher.join(30)
    finished = not dispatcher.is_alive()
    release.set()
    holder.join(WAIT_SECONDS)
    dispatcher.join(WAIT_SECONDS)

    assert finished, "the dispatcher waited for the events another transaction held"
    assert outcome["dispatched"] == (4, {endpoint.pk})
    assert set(Event.objects.filter(dispatched_at__isnull=True).values_list("pk", flat=True)) == set(held_ids)
    assert set(Delivery.objects.values_list("event_id", flat=True)) == {e.pk for e in emitted} - set(held_ids)

    assert events_dispatch() == (2, {endpoint.pk})
    assert Delivery.objects.count() == 6
    assert not Event.objects.filter(dispatched_at__isnull=True).exists()
