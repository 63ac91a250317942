from datetime import timedelta

import pytest
from django.utils import timezone

from config.actors import Actor
from config.errors import DomainError
from offers import services
from offers.models import OfferResponse, OfferResponseEvent
from offers.responses.services import offer_response_assign, offer_response_claim, offer_response_transition
from tests.members.factories import MemberFactory
from tests.offers.factories import OfferFactory

pytestmark = pytest.mark.django_db
ACTOR = Actor(name="care-1", channel="api:member_care")


def test_offer_response_claim_keeps_the_offer_as_it_was():
    end = timezone.now() + timedelta(days=10)
    offer = OfferFactory(name="Milk", category="dairy", usage_end=end, fulfillment_flow="shipping")
    member = MemberFactory()

    response = offer_response_claim(member=member, offer=offer, actor=ACTOR)
    services.offer_update(offer=offer, actor=ACTOR, name="Renamed")

    response.refresh_from_db()
    assert (response.status, response.source, response.expires_at) == ("pending", "claim", end)
    assert response.offer_snapshot["name"] == "Milk"
    assert response.offer_snapshot["category"] == "dairy"
    assert response.offer_snapshot["fulfillment_flow"] == "shipping"
    assert response.offer_snapshot["usage_end"] == end.isoformat()
    event = response.events.get()
    assert (event.from_status, event.to_status, event.actor, event.channel) == (
        "",
        "pending",
        "care-1",
        "api:member_care",
    )


def test_offer_response_expires_with_the_offer_without_a_usage_end():
    expire = timezone.now() + timedelta(days=3)
    response = offer_response_claim(member=MemberFactory(), offer=OfferFactory(expire_at=expire), actor=ACTOR)
    assert response.expires_at == expire
    assert offer_response_claim(member=MemberFactory(), offer=OfferFactory(), actor=ACTOR).expires_at is None


def test_offer_response_claim_of_an_offer_not_visible_is_refused_with_the_status():
    offer = OfferFactory(expire_at=timezone.now() - timedelta(days=1), publish_at=timezone.now() - timedelta(days=9))
    with pytest.raises(DomainError) as caught:
        offer_response_claim(member=MemberFactory(), offer=offer, actor=ACTOR)
    assert (caught.value.code, caught.value.reasons) == ("offer_not_visible", ["expired"])
    assert not OfferResponse.objects.exists()


def test_offer_response_claim_twice_is_already_claimed_until_the_first_closes():
    offer, member = OfferFactory(), MemberFactory()
    first = offer_response_claim(member=member, offer=offer, actor=ACTOR)

    with pytest.raises(DomainError) as caught:
        offer_response_claim(member=member, offer=offer, actor=ACTOR)
    assert caught.value.code == "already_claimed"

    offer_response_transition(response=first, to_status="completed", actor=ACTOR)
    second = offer_response_claim(member=member, offer=offer, actor=ACTOR)
    assert second.pk != first.pk and second.status == "pending"


def test_offer_response_claim_of_a_multiple_response_offer_creates_one_per_claim():
    offer, member = OfferFactory(allow_multiple_responses=True), MemberFactory()
    for _ in range(3):
        offer_response_claim(member=member, offer=offer, actor=ACTOR)
    assert OfferResponse.objects.filter(member=member, offer=offer, status="pending").count() == 3


def test_offer_activate_clips_the_pending_response_in_the_same_act():
    offer, member = OfferFactory(opt_in=True), MemberFactory()
    response = offer_response_claim(member=member, offer=offer, actor=ACTOR)
    assert response.status == "pending"

    services.offer_activate(member=member, offer=offer, actor=ACTOR)
    services.offer_activate(member=member, offer=offer, actor=ACTOR)  # repeat: unchanged

    response.refresh_from_db()
    assert response.status == "clipped"
    assert list(response.events.values_list("from_status", "to_status", "reason")) == [
        ("", "pending", "created (claim)"),
        ("pending", "clipped", "offer activated"),
    ]
    assert OfferResponse.objects.filter(member=member, offer=offer).count() == 1


def test_offer_activate_without_a_claim_creates_a_clipped_response():
    offer, member = OfferFactory(opt_in=True), MemberFactory()
    services.offer_activate(member=member, offer=offer, actor=ACTOR)
    response = OfferResponse.objects.get(member=member, offer=offer)
    assert (response.status, response.source) == ("clipped", "activation")


def test_offer_activate_refused_leaves_no_response():
    offer = OfferFactory(opt_in=True, publish_at=timezone.now() + timedelta(days=1))
    with pytest.raises(DomainError):
        services.offer_activate(member=MemberFactory(), offer=offer, actor=ACTOR)
    assert not OfferResponse.objects.exists()


def test_offer_response_claim_after_activation_starts_clipped():
    offer, member = OfferFactory(opt_in=True, allow_multiple_responses=True), MemberFactory()
    services.offer_activate(member=member, offer=offer, actor=ACTOR)
    again = offer_response_claim(member=member, offer=offer, actor=ACTOR)
    assert again.status == "clipped"


def test_offer_response_assign_records_its_source_and_code():
    offer, member = OfferFactory(), MemberFactory()
    response = offer_response_assign(
        member=member, offer=offer, actor=Actor.task("segment-enrolment"), source="reward", certificate_code="RC-1"
    )
    assert (response.source, response.certificate_code, response.status) == ("reward", "RC-1", "pending")
    with pytest.raises(DomainError) as caught:
        offer_response_assign(member=member, offer=offer, actor=ACTOR)
    assert caught.value.code == "already_claimed"
    with pytest.raises(DomainError) as caught:
        offer_response_assign(member=MemberFactory(), offer=offer, actor=ACTOR, source="nonsense")
    assert caught.value.http_status == 400


def test_offer_response_transition_to_unknown_status_is_invalid_input():
    response = offer_response_claim(member=MemberFactory(), offer=OfferFactory(), actor=ACTOR)
    with pytest.raises(DomainError) as caught:
        offer_response_transition(response=response, to_status="lost", actor=ACTOR)
    assert caught.value.http_status == 400
    assert OfferResponseEvent.objects.filter(response=response).count() == 1


def test_offer_response_one_open_constraint_backs_the_service():
    from django.db import IntegrityError, transaction

    offer, member = OfferFactory(), MemberFactory()
    offer_response_claim(member=member, offer=offer, actor=ACTOR)
    with pytest.raises(IntegrityError), transaction.atomic():
        OfferResponse.objects.create(member=member, offer=offer, status="clipped", one_open_only=True)
