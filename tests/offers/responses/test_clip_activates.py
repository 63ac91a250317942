"""Clipping an opt-in response and activating its offer are one act (seed 000, contract "Offer responses"):
whichever side it starts from, through the API or the admin, the member ends activated and earns."""

import pytest
from django.contrib import admin
from django.urls import reverse

from config.actors import Actor
from offers.models import Activation, Fulfillment, OfferLimit, OfferResponse, OfferResponseEvent
from offers.responses.services import offer_response_claim, offer_response_transition
from offers.services import offer_activate
from tests.members.factories import MemberFactory
from tests.offers.factories import EarningMechanismFactory, LimitFactory, OfferFactory, OfferResponseFactory
from tests.offers.test_api_transactions import purchase

pytestmark = pytest.mark.django_db
ACTOR = Actor(name="care-1", channel="api:member_care")
CHANGELIST = "admin:offers_offerresponse_changelist"


def transition(client, response_id, status):
    return client.post(f"/api/v1/offer-responses/{response_id}/transition", {"status": status}, format="json")


def membership_offer(client, member, offer):
    return client.get(f"/api/v1/members/{member.external_id}/offers/{offer.pk}").json()


def opt_in_milk_offer(**kwargs):
    offer = OfferFactory(opt_in=True, **kwargs)
    EarningMechanismFactory(offer=offer, sku="MILK", min_quantity=2, points=50)
    return offer


def test_clip_through_the_api_activates_the_offer_and_a_purchase_awards(pos):
    member, offer = MemberFactory(), opt_in_milk_offer()
    response = offer_response_claim(member=member, offer=offer, actor=ACTOR)
    assert membership_offer(pos, member, offer)["activation_status"] == "requires_activation"

    answer = transition(pos, response.pk, "clipped")

    assert answer.status_code == 200, answer.json()
    assert answer.json()["status"] == "clipped"
    row = membership_offer(pos, member, offer)
    assert (row["activation_status"], row["eligible"], row["activated"]) == ("activated", True, True)
    assert Activation.objects.filter(member=member, offer=offer).count() == 1
    bought = purchase(pos, member, items=(("MILK", 2),))
    assert bought.status_code == 201, bought.json()
    assert bought.json()["awards"] == [{"offer_id": offer.pk, "points": 50}]
    assert Fulfillment.objects.filter(member=member, offer=offer).count() == 1


def test_clip_counts_against_the_global_activation_limit():
    offer = OfferFactory(opt_in=True)
    LimitFactory(offer=offer, kind="activation", max_count=1)
    response = offer_response_claim(member=MemberFactory(), offer=offer, actor=ACTOR)

    clipped = offer_response_transition(response=response, to_status="clipped", actor=ACTOR, reason="member clipped")

    assert clipped.status == "clipped"
    assert OfferLimit.objects.get(offer=offer).used_count == 1
    event = OfferResponseEvent.objects.filter(response=response).latest("at", "id")
    assert (event.to_status, event.reason) == ("clipped", "member clipped")


def test_clip_refused_when_the_activation_limit_is_reached_with_the_same_reason(pos):
    offer = OfferFactory(opt_in=True)
    LimitFactory(offer=offer, kind="activation", max_count=1)
    offer_activate(member=MemberFactory(), offer=offer, actor=ACTOR)
    late = MemberFactory()
    response = OfferResponseFactory(member=late, offer=offer)

    answer = transition(pos, response.pk, "clipped")

    assert answer.status_code == 409
    problem = answer.json()
    assert (problem["code"], problem["reasons"]) == ("offer_not_visible", ["global_limit"])
    response.refresh_from_db()
    assert response.status == "pending"
    assert not OfferResponseEvent.objects.filter(response=response).exists()
    assert not Activation.objects.filter(member=late, offer=offer).exists()
    assert OfferLimit.objects.get(offer=offer).used_count == 1


def test_clip_refused_by_a_member_activation_limit(pos):
    offer = OfferFactory(opt_in=True)
    LimitFactory(offer=offer, scope="member", kind="activation", max_count=0)
    response = OfferResponseFactory(offer=offer)

    answer = transition(pos, response.pk, "clipped")

    assert answer.status_code == 409
    assert (answer.json()["code"], answer.json()["reasons"]) == ("offer_not_visible", ["member_limit"])
    assert OfferResponse.objects.get(pk=response.pk).status == "pending"


def test_clip_of_a_second_pending_response_after_activation_takes_no_second_activation(pos):
    offer = OfferFactory(opt_in=True, allow_multiple_responses=True)
    LimitFactory(offer=offer, kind="activation", max_count=1)
    member = MemberFactory()
    first = offer_response_claim(member=member, offer=offer, actor=ACTOR)
    second = offer_response_claim(member=member, offer=offer, actor=ACTOR)
    offer_activate(member=member, offer=offer, actor=ACTOR)  # clips the oldest pending one

    answer = transition(pos, second.pk, "clipped")

    assert answer.status_code == 200, answer.json()
    assert set(OfferResponse.objects.filter(pk__in=[first.pk, second.pk]).values_list("status", flat=True)) == {
        "clipped"
    }
    assert Activation.objects.filter(member=member, offer=offer).count() == 1
    assert OfferLimit.objects.get(offer=offer).used_count == 1


def test_clip_of_an_already_clipped_response_is_illegal_and_activates_nothing_more(pos):
    member, offer = MemberFactory(), OfferFactory(opt_in=True)
    response = offer_response_claim(member=member, offer=offer, actor=ACTOR)
    assert transition(pos, response.pk, "clipped").status_code == 200

    again = transition(pos, response.pk, "clipped")

    assert again.status_code == 409 and again.json()["code"] == "illegal_transition"
    assert Activation.objects.filter(member=member, offer=offer).count() == 1


def test_clip_of_a_response_whose_offer_no_longer_needs_activation_just_moves_it(pos):
    member, offer = MemberFactory(), OfferFactory(opt_in=True)
    response = offer_response_claim(member=member, offer=offer, actor=ACTOR)
    offer.requires_activation = False
    offer.save()

    answer = transition(pos, response.pk, "clipped")

    assert answer.status_code == 200 and answer.json()["status"] == "clipped"
    assert not Activation.objects.exists()


def _admin_clip(admin_client, *responses):
    data = {
        "action": "clip_selected",
        admin.helpers.ACTION_CHECKBOX_NAME: [r.pk for r in responses],
        "confirm": "yes",
    }
    return admin_client.post(reverse(CHANGELIST), data, follow=True)


def test_admin_clip_activates_the_offer_and_a_purchase_awards(admin_client, pos):
    member, offer = MemberFactory(), opt_in_milk_offer()
    response = offer_response_claim(member=member, offer=offer, actor=ACTOR)
    confirm = admin_client.post(
        reverse(CHANGELIST), {"action": "clip_selected", admin.helpers.ACTION_CHECKBOX_NAME: [response.pk]}
    )
    assert "confirm-clip-activates" in confirm.content.decode()
    assert not Activation.objects.exists()

    result = _admin_clip(admin_client, response)

    assert "1 offer response(s) clipped." in [str(m) for m in result.context["messages"]]
    activation = Activation.objects.get(member=member, offer=offer)
    assert activation.channel == "admin"
    assert membership_offer(pos, member, offer)["activation_status"] == "activated"
    assert purchase(pos, member, items=(("MILK", 2),)).json()["awards"] == [{"offer_id": offer.pk, "points": 50}]
    event = OfferResponseEvent.objects.filter(response=response).latest("at", "id")
    assert (event.from_status, event.to_status, event.channel) == ("pending", "clipped", "admin")


def test_admin_clip_refused_by_the_activation_limit_reports_the_reason(admin_client):
    offer = OfferFactory(opt_in=True)
    LimitFactory(offer=offer, kind="activation", max_count=1)
    first = offer_response_claim(member=MemberFactory(), offer=offer, actor=ACTOR)
    second = offer_response_claim(member=MemberFactory(), offer=offer, actor=ACTOR)

    result = _admin_clip(admin_client, first, second)

    messages = [str(m) for m in result.context["messages"]]
    assert "1 offer response(s) clipped." in messages
    assert any(f"#{second.pk} (pending: global_limit)" in m for m in messages)
    assert OfferResponse.objects.get(pk=second.pk).status == "pending"
    assert Activation.objects.filter(offer=offer).count() == 1
