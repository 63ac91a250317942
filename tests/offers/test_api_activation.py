from datetime import timedelta

import pytest
from django.utils import timezone

from config.actors import Actor
from offers.models import Activation, OfferLimit
from offers.services import offer_activate
from tests.concurrency import run_concurrently
from tests.members.factories import MemberFactory
from tests.offers.factories import LimitFactory, OfferFactory


def activate(client, member, offer, **kwargs):
    return client.post(f"/api/v1/members/{member.external_id}/offers/{offer.pk}/activate", **kwargs)


@pytest.mark.django_db
def test_activate_makes_offer_eligible_and_repeat_is_unchanged(pos):
    member = MemberFactory()
    offer = OfferFactory(opt_in=True)

    first = activate(pos, member, offer)
    second = activate(pos, member, offer)

    assert first.status_code == 200, first.json()
    body = first.json()
    assert (body["activation_status"], body["eligible"], body["activated"], body["must_activate"]) == (
        "activated",
        True,
        True,
        True,
    )
    assert second.status_code == 200
    assert second.json() == body
    assert Activation.objects.filter(offer=offer, member=member).count() == 1


@pytest.mark.django_db
def test_activate_offer_without_activation_constraint_is_409(pos):
    response = activate(pos, MemberFactory(), OfferFactory())
    assert response.status_code == 409
    assert response.json()["code"] == "activation_not_required"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "offer_kwargs, status",
    [
        ({"discontinued_at": timezone.now() - timedelta(minutes=1)}, "discontinued"),
        ({"publish_at": timezone.now() + timedelta(days=1)}, "unpublished"),
        ({"expire_at": timezone.now() - timedelta(minutes=1)}, "expired"),
    ],
)
def test_activate_offer_not_visible_is_409_with_status(pos, offer_kwargs, status):
    response = activate(pos, MemberFactory(), OfferFactory(opt_in=True, **offer_kwargs))
    assert response.status_code == 409
    assert response.json()["code"] == "offer_not_visible"
    assert response.json()["reasons"] == [status]


@pytest.mark.django_db
def test_activate_counts_against_global_activation_limit(pos):
    offer = OfferFactory(opt_in=True)
    LimitFactory(offer=offer, kind="activation", max_count=2)
    members = [MemberFactory() for _ in range(3)]

    statuses = [activate(pos, member, offer).status_code for member in members]

    assert statuses == [200, 200, 409]
    assert OfferLimit.objects.get(offer=offer).used_count == 2
    refused = activate(pos, members[2], offer).json()
    assert refused["reasons"] == ["global_limit"]
    # those who activated keep the offer
    assert pos.get(f"/api/v1/members/{members[0].external_id}/offers/{offer.pk}").json()["eligible"] is True
    assert pos.get(f"/api/v1/offers/{offer.pk}").json()["visible_status"] == "global_limit"


@pytest.mark.django_db
def test_activate_roles_and_404(pos, member_care, marketer):
    member = MemberFactory()
    offer = OfferFactory(opt_in=True)
    assert activate(member_care, member, offer).status_code == 200
    assert activate(marketer, member, offer).status_code == 403
    assert pos.post(f"/api/v1/members/NOPE/offers/{offer.pk}/activate").status_code == 404
    assert pos.post(f"/api/v1/members/{member.external_id}/offers/999999/activate").status_code == 404


@pytest.mark.django_db
def test_activate_honours_idempotency_key(pos):
    member = MemberFactory()
    offer = OfferFactory(opt_in=True)
    first = activate(pos, member, offer, HTTP_IDEMPOTENCY_KEY="k-1")
    replay = activate(pos, member, offer, HTTP_IDEMPOTENCY_KEY="k-1")
    assert replay.status_code == 200
    assert replay.headers.get("Idempotent-Replayed") == "true"
    assert replay.json() == first.json()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_activate_global_limit_holds_under_concurrency():
    limit, racers = 5, 12
    offer = OfferFactory(opt_in=True)
    LimitFactory(offer=offer, kind="activation", max_count=limit)
    members = [MemberFactory() for _ in range(racers)]

    def race(index):
        offer_activate(member=members[index], offer=offer, actor=Actor.system())
        return "ok"

    outcomes = run_concurrently(racers, race)  # the refused ones raise offer_not_visible

    assert outcomes.count("ok") == limit
    assert outcomes.count("offer_not_visible") == racers - limit
    assert Activation.objects.filter(offer=offer).count() == limit
    assert OfferLimit.objects.get(offer=offer).used_count == limit
