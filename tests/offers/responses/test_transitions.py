"""The lifecycle table, exhaustively: every from-to pair for every kind of offer, through the service."""

import itertools

import pytest

from config.actors import Actor
from offers.exceptions import OfferResponseError
from offers.models import OfferResponse, OfferResponseEvent
from offers.responses import rules as r
from offers.responses.services import offer_response_transition
from tests.offers.factories import OfferFactory, OfferResponseFactory

KINDS = {
    "standard": {"requires_activation": False, "fulfillment_flow": "standard"},
    "opt_in": {"requires_activation": True, "fulfillment_flow": "standard"},
    "shipping": {"requires_activation": False, "fulfillment_flow": "shipping"},
    "opt_in_shipping": {"requires_activation": True, "fulfillment_flow": "shipping"},
}

EXPECTED = {
    (r.PENDING, r.CLIPPED): {"opt_in", "opt_in_shipping"},
    (r.PENDING, r.PROCESSING): {"shipping", "opt_in_shipping"},
    (r.PENDING, r.COMPLETED): {"standard", "shipping"},
    (r.CLIPPED, r.COMPLETED): set(KINDS),
    (r.PROCESSING, r.SHIPPING): set(KINDS),
    (r.SHIPPING, r.COMPLETED): set(KINDS),
    **{(status, end): set(KINDS) for status in r.OPEN for end in (r.CANCELED, r.EXPIRED)},
}

PAIRS = list(itertools.product(r.STATUSES, r.STATUSES))


@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize("from_status, to_status", PAIRS)
def test_transition_allowed_matches_the_contract_table(kind, from_status, to_status):
    allowed = r.transition_allowed(from_status, to_status, **KINDS[kind])
    assert allowed == (kind in EXPECTED.get((from_status, to_status), set()))


def test_transition_final_statuses_have_no_way_out():
    for final in r.FINAL:
        assert not any(r.transition_allowed(final, to, **kind) for to in r.STATUSES for kind in KINDS.values())


def _response(kind, status):
    offer = OfferFactory(**KINDS[kind])
    return OfferResponseFactory(offer=offer, status=status, offer_snapshot={"fulfillment_flow": offer.fulfillment_flow})


@pytest.mark.django_db
@pytest.mark.parametrize("kind", ["standard", "opt_in_shipping"])
@pytest.mark.parametrize("from_status, to_status", PAIRS)
def test_offer_response_transition_applies_the_table(kind, from_status, to_status):
    response = _response(kind, from_status)
    actor = Actor(name="till-7", channel="api:pos")

    if kind in EXPECTED.get((from_status, to_status), set()):
        offer_response_transition(response=response, to_status=to_status, actor=actor, reason="why")
        response.refresh_from_db()
        assert response.status == to_status
        event = OfferResponseEvent.objects.get(response=response)
        assert (event.from_status, event.to_status, event.actor, event.channel, event.reason) == (
            from_status,
            to_status,
            "till-7",
            "api:pos",
            "why",
        )
    else:
        with pytest.raises(OfferResponseError) as caught:
            offer_response_transition(response=response, to_status=to_status, actor=actor)
        assert caught.value.code == "illegal_transition"
        response.refresh_from_db()
        assert response.status == from_status
        assert not OfferResponseEvent.objects.filter(response=response).exists()


@pytest.mark.django_db
def test_offer_response_transition_from_a_stale_status_is_refused():
    response = _response("standard", r.PENDING)
    stale = OfferResponse.objects.get(pk=response.pk)
    offer_response_transition(response=response, to_status=r.COMPLETED, actor=Actor.system())

    with pytest.raises(OfferResponseError) as caught:
        offer_response_transition(response=stale, to_status=r.CANCELED, actor=Actor.system())

    assert caught.value.code == "illegal_transition"
    assert OfferResponse.objects.get(pk=response.pk).status == r.COMPLETED
    assert OfferResponseEvent.objects.filter(response=response).count() == 1
