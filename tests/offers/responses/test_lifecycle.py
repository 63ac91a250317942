"""Offer responses change status only through offers/responses/lifecycle.py, whose two writers move exactly
what the transition table allows, each move with its event."""

import itertools

import pytest

from config.actors import Actor
from offers.exceptions import OfferResponseError
from offers.models import OfferResponse, OfferResponseEvent
from offers.responses import rules
from offers.responses.lifecycle import offer_response_move, offer_responses_move
from tests.offers.responses.kinds import KINDS, response_of_kind
from tests.status_writes import python_files, status_writes

ACTOR = Actor(name="sweeper", channel="task")


def _allowed(old, to, kind):
    return rules.transition_allowed(old, to, **KINDS[kind])


def test_offer_response_statuses_change_only_in_the_lifecycle_module():
    paths = python_files("offers", "jobs", "config/jobs.py")
    assert status_writes(paths, writers={"offers/responses/lifecycle.py"}) == []


@pytest.mark.django_db
@pytest.mark.parametrize("to", rules.STATUSES)
def test_offer_responses_move_moves_exactly_what_the_table_allows_for_each_kind(to):
    responses = {(kind, old): response_of_kind(kind, old) for kind, old in itertools.product(KINDS, rules.STATUSES)}

    moved = offer_responses_move(ids=[r.pk for r in responses.values()], to_status=to, actor=ACTOR, reason="sweep")

    allowed = {key for key in responses if _allowed(key[1], to, key[0])}
    assert moved == len(allowed)
    after = dict(OfferResponse.objects.values_list("pk", "status"))
    assert {key: after[r.pk] for key, r in responses.items()} == {
        key: to if key in allowed else key[1] for key in responses
    }
    events = set(OfferResponseEvent.objects.values_list("response_id", "from_status", "to_status", "channel"))
    assert events == {(responses[key].pk, key[1], to, "task") for key in allowed}


@pytest.mark.django_db
@pytest.mark.parametrize("kind", ["opt_in", "shipping"])
@pytest.mark.parametrize("old, to", list(itertools.product(rules.STATUSES, rules.STATUSES)))
def test_offer_response_move_moves_what_the_table_allows_and_refuses_the_rest(kind, old, to):
    response = response_of_kind(kind, old)

    if _allowed(old, to, kind):
        offer_response_move(response=response, to_status=to, actor=ACTOR, reason="why")
        assert OfferResponse.objects.get(pk=response.pk).status == to
        assert list(OfferResponseEvent.objects.values_list("from_status", "to_status")) == [(old, to)]
    else:
        with pytest.raises(OfferResponseError) as refused:
            offer_response_move(response=response, to_status=to, actor=ACTOR, reason="why")
        assert refused.value.code == "illegal_transition"
        assert OfferResponse.objects.get(pk=response.pk).status == old
        assert not OfferResponseEvent.objects.exists()


@pytest.mark.django_db
def test_offer_response_move_on_a_status_read_before_another_change_is_refused():
    response = response_of_kind("standard", rules.PENDING)
    OfferResponse.objects.filter(pk=response.pk).update(status=rules.CANCELED)

    with pytest.raises(OfferResponseError) as lost:
        offer_response_move(response=response, to_status=rules.COMPLETED, actor=ACTOR, reason="")

    assert lost.value.extra == {"from_status": rules.CANCELED, "to_status": rules.COMPLETED}
    assert OfferResponse.objects.get(pk=response.pk).status == rules.CANCELED
    assert not OfferResponseEvent.objects.exists()
