from datetime import timedelta

import pytest
from django.utils import timezone

from config.actors import Actor
from jobs.tasks import expire_due_task
from offers.models import OfferResponse, OfferResponseEvent
from offers.responses.services import offer_response_claim, offer_response_transition, offer_responses_expire_due
from tests.members.factories import MemberFactory
from tests.offers.factories import OfferFactory

pytestmark = pytest.mark.django_db
ACTOR = Actor.system()


def _claim(**offer_kwargs):
    return offer_response_claim(member=MemberFactory(), offer=OfferFactory(**offer_kwargs), actor=ACTOR)


def test_offer_responses_expire_due_expires_open_responses_past_their_expiry_in_batches():
    now = timezone.now()
    due = [_claim(usage_end=now + timedelta(hours=1)) for _ in range(5)]
    clipped = _claim(opt_in=True, usage_end=now + timedelta(hours=1))
    offer_response_transition(response=clipped, to_status="clipped", actor=ACTOR)
    done = _claim(usage_end=now + timedelta(hours=1))
    offer_response_transition(response=done, to_status="completed", actor=ACTOR)
    later = _claim(usage_end=now + timedelta(days=5))
    never = _claim()

    count = offer_responses_expire_due(actor=Actor.task("sweep"), at=now + timedelta(hours=2), batch_size=2)

    assert count == 6
    statuses = dict(OfferResponse.objects.values_list("pk", "status"))
    assert {statuses[r.pk] for r in [*due, clipped]} == {"expired"}
    assert (statuses[done.pk], statuses[later.pk], statuses[never.pk]) == ("completed", "pending", "pending")
    event = OfferResponseEvent.objects.get(response=clipped, to_status="expired")
    assert (event.from_status, event.actor, event.channel, event.reason) == (
        "clipped",
        "sweep",
        "task",
        "expiry date passed",
    )
    assert offer_responses_expire_due(actor=ACTOR, at=now + timedelta(hours=2)) == 0


def test_the_scheduled_expiry_task_runs_the_offer_response_sweep():
    response = _claim(expire_at=timezone.now() + timedelta(days=1))
    OfferResponse.objects.filter(pk=response.pk).update(expires_at=timezone.now() - timedelta(minutes=1))

    assert expire_due_task.delay().get()["offer_responses"] == 1
    assert OfferResponse.objects.get(pk=response.pk).status == "expired"
