"""Races on PostgreSQL with real threads: one completion per response, one open response per member."""

import pytest
from rest_framework.test import APIClient

from config.actors import Actor
from offers.models import OfferResponse, OfferResponseEvent
from offers.responses.services import offer_response_claim
from tests.concurrency import run_concurrently
from tests.members.factories import MemberFactory
from tests.offers.factories import OfferFactory

RACERS = 8


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_transition_completion_by_racing_tills_happens_once(make_api_client, store):
    response = offer_response_claim(member=MemberFactory(), offer=OfferFactory(), actor=Actor.system())
    tokens = [make_api_client("pos", stores=[store]).token for _ in range(RACERS)]

    def complete(index):
        http = APIClient()
        http.credentials(HTTP_AUTHORIZATION=f"Token {tokens[index]}")
        answer = http.post(
            f"/api/v1/offer-responses/{response.pk}/transition",
            {"status": "completed"},
            format="json",
            HTTP_IDEMPOTENCY_KEY=f"till-{index}",
        )
        return answer.status_code, answer.json().get("code")

    outcomes = run_concurrently(RACERS, complete)

    assert sorted(outcomes, key=str).count((200, None)) == 1
    assert outcomes.count((409, "illegal_transition")) == RACERS - 1
    assert OfferResponse.objects.get(pk=response.pk).status == "completed"
    assert OfferResponseEvent.objects.filter(response=response, to_status="completed").count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_claim_by_racing_callers_leaves_one_open_response():
    member, offer = MemberFactory(), OfferFactory()

    def claim(index):
        return offer_response_claim(member=member, offer=offer, actor=Actor.system()).pk

    outcomes = run_concurrently(RACERS, claim)

    assert len([o for o in outcomes if isinstance(o, int)]) == 1
    assert outcomes.count("already_claimed") == RACERS - 1
    assert OfferResponse.objects.filter(member=member, offer=offer).count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_claim_and_activation_racing_leave_one_clipped_response():
    from offers.services import offer_activate

    member, offer = MemberFactory(), OfferFactory(opt_in=True)

    def act(index):
        if index % 2:
            offer_activate(member=member, offer=offer, actor=Actor.system())
            return "activated"
        offer_response_claim(member=member, offer=offer, actor=Actor.system())
        return "claimed"

    outcomes = run_concurrently(RACERS, act)

    assert set(outcomes) <= {"activated", "claimed", "already_claimed"}
    assert list(OfferResponse.objects.filter(member=member, offer=offer).values_list("status", flat=True)) == [
        "clipped"
    ]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_clips_by_racing_members_take_the_activation_limit_exactly():
    from offers.models import Activation, OfferLimit
    from offers.responses.services import offer_response_transition
    from tests.offers.factories import LimitFactory

    limit = 3
    offer = OfferFactory(opt_in=True)
    LimitFactory(offer=offer, kind="activation", max_count=limit)
    responses = [offer_response_claim(member=MemberFactory(), offer=offer, actor=Actor.system()) for _ in range(RACERS)]

    def clip(index):
        return offer_response_transition(response=responses[index], to_status="clipped", actor=Actor.system()).status

    outcomes = run_concurrently(RACERS, clip)

    assert outcomes.count("clipped") == limit
    assert outcomes.count("offer_not_visible") == RACERS - limit
    assert OfferResponse.objects.filter(offer=offer, status="clipped").count() == limit
    assert Activation.objects.filter(offer=offer).count() == limit
    assert OfferLimit.objects.get(offer=offer).used_count == limit
