from datetime import timedelta

import pytest
from django.utils import timezone

from config.actors import Actor
from offers.models import OfferResponse
from offers.responses.services import offer_response_claim, offer_response_transition
from tests.members.factories import MemberFactory
from tests.offers.factories import OfferFactory

pytestmark = pytest.mark.django_db
CLAIM_FIELDS = {
    "id",
    "offer",
    "member",
    "status",
    "certificate_code",
    "created_at",
    "status_changed_at",
    "expires_at",
    "usage_period_active",
}


def claim(client, member, offer, **kwargs):
    return client.post(f"/api/v1/members/{member.external_id}/offers/{offer.pk}/claim", format="json", **kwargs)


def transition(client, response_id, body, **kwargs):
    return client.post(f"/api/v1/offer-responses/{response_id}/transition", body, format="json", **kwargs)


# Claim ----------------------------------------------------------------------------------------------


def test_claim_creates_a_pending_response(pos):
    member, offer = MemberFactory(), OfferFactory(usage_end=timezone.now() + timedelta(days=2))
    answer = claim(pos, member, offer, data={"certificate_code": "CERT-9"})
    assert answer.status_code == 201, answer.json()
    body = answer.json()
    assert set(body) >= CLAIM_FIELDS
    assert (body["offer"], body["member"], body["status"], body["certificate_code"]) == (
        offer.pk,
        member.external_id,
        "pending",
        "CERT-9",
    )
    assert body["usage_period_active"] is True and body["expires_at"] is not None
    assert OfferResponse.objects.get(pk=body["id"]).source == "claim"


def test_claim_twice_is_409_already_claimed(member_care):
    member, offer = MemberFactory(), OfferFactory()
    assert claim(member_care, member, offer).status_code == 201
    second = claim(member_care, member, offer)
    assert second.status_code == 409
    assert second.json()["code"] == "already_claimed"
    assert second.headers["Content-Type"].startswith("application/problem+json")


def test_claim_replays_with_the_same_idempotency_key(pos):
    member, offer = MemberFactory(), OfferFactory()
    first = claim(pos, member, offer, HTTP_IDEMPOTENCY_KEY="c-1")
    again = claim(pos, member, offer, HTTP_IDEMPOTENCY_KEY="c-1")
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json()["id"] == first.json()["id"]
    assert OfferResponse.objects.count() == 1


def test_claim_of_an_offer_not_visible_is_409_with_the_member_status(pos):
    member = MemberFactory()
    offer = OfferFactory(publish_at=timezone.now() + timedelta(days=1))
    answer = claim(pos, member, offer)
    assert answer.status_code == 409
    assert (answer.json()["code"], answer.json()["reasons"]) == ("offer_not_visible", ["unpublished"])


def test_claim_with_a_bad_body_is_400(pos):
    answer = claim(pos, MemberFactory(), OfferFactory(), data={"certificate_code": "X" * 65})
    assert answer.status_code == 400
    assert "certificate_code" in answer.json()["errors"]
    assert not OfferResponse.objects.exists()


def test_claim_by_a_marketer_is_403(marketer):
    assert claim(marketer, MemberFactory(), OfferFactory()).status_code == 403


def test_claim_unknown_member_or_offer_is_404(pos):
    offer, member = OfferFactory(), MemberFactory()
    assert pos.post(f"/api/v1/members/NOPE/offers/{offer.pk}/claim").status_code == 404
    assert pos.post(f"/api/v1/members/{member.external_id}/offers/999999/claim").status_code == 404


# Transition -----------------------------------------------------------------------------------------


def test_transition_completes_and_a_second_completion_is_409(pos):
    response = offer_response_claim(member=MemberFactory(), offer=OfferFactory(), actor=Actor.system())
    done = transition(pos, response.pk, {"status": "completed"})
    assert done.status_code == 200, done.json()
    assert done.json()["status"] == "completed"
    again = transition(pos, response.pk, {"status": "completed"})
    assert again.status_code == 409
    assert again.json()["code"] == "illegal_transition"
    assert response.events.count() == 2


def test_transition_completion_replays_with_the_same_key(pos):
    response = offer_response_claim(member=MemberFactory(), offer=OfferFactory(), actor=Actor.system())
    first = transition(pos, response.pk, {"status": "completed"}, HTTP_IDEMPOTENCY_KEY="till-1-42")
    replay = transition(pos, response.pk, {"status": "completed"}, HTTP_IDEMPOTENCY_KEY="till-1-42")
    assert (first.status_code, replay.status_code) == (200, 200)
    assert replay.json() == first.json()
    assert response.events.filter(to_status="completed").count() == 1
    reused = transition(pos, response.pk, {"status": "canceled"}, HTTP_IDEMPOTENCY_KEY="till-1-42")
    assert reused.status_code == 422


def test_transition_of_opt_in_pending_to_completed_is_409(member_care):
    response = offer_response_claim(member=MemberFactory(), offer=OfferFactory(opt_in=True), actor=Actor.system())
    answer = transition(member_care, response.pk, {"status": "completed"})
    assert answer.status_code == 409
    assert answer.json()["code"] == "illegal_transition"


@pytest.mark.parametrize("body", [{}, {"status": "lost"}, {"status": 3}, {"status": "completed", "reason": "x" * 300}])
def test_transition_with_bad_input_is_400(pos, body):
    response = offer_response_claim(member=MemberFactory(), offer=OfferFactory(), actor=Actor.system())
    assert transition(pos, response.pk, body).status_code == 400
    response.refresh_from_db()
    assert response.status == "pending"


def test_transition_by_a_marketer_is_403_and_unknown_is_404(marketer, pos):
    response = offer_response_claim(member=MemberFactory(), offer=OfferFactory(), actor=Actor.system())
    assert transition(marketer, response.pk, {"status": "completed"}).status_code == 403
    assert transition(pos, 999999, {"status": "completed"}).status_code == 404


# Lists ----------------------------------------------------------------------------------------------


def test_member_offer_responses_usable_lists_what_a_pos_may_apply(pos):
    member, now = MemberFactory(), timezone.now()
    actor = Actor.system()
    plain = offer_response_claim(member=member, offer=OfferFactory(), actor=actor)
    opt_in_pending = offer_response_claim(member=member, offer=OfferFactory(opt_in=True), actor=actor)
    clipped_offer = OfferFactory(opt_in=True)
    from offers.services import offer_activate

    offer_activate(member=member, offer=clipped_offer, actor=actor)
    clipped = OfferResponse.objects.get(offer=clipped_offer)
    later = offer_response_claim(member=member, offer=OfferFactory(usage_start=now + timedelta(days=1)), actor=actor)
    done = offer_response_claim(member=member, offer=OfferFactory(), actor=actor)
    offer_response_transition(response=done, to_status="completed", actor=actor)
    passed = offer_response_claim(member=member, offer=OfferFactory(), actor=actor)
    OfferResponse.objects.filter(pk=passed.pk).update(usage_end=now - timedelta(hours=1))
    expired = offer_response_claim(member=member, offer=OfferFactory(), actor=actor)
    OfferResponse.objects.filter(pk=expired.pk).update(expires_at=now - timedelta(hours=1))
    offer_response_claim(member=MemberFactory(), offer=OfferFactory(), actor=actor)  # someone else's

    answer = pos.get(f"/api/v1/members/{member.external_id}/offer-responses?usable=true")
    assert answer.status_code == 200
    assert {row["id"] for row in answer.json()["results"]} == {plain.pk, clipped.pk}

    everything = pos.get(f"/api/v1/members/{member.external_id}/offer-responses").json()
    assert everything["count"] == 7
    unusable = pos.get(f"/api/v1/members/{member.external_id}/offer-responses?usable=false").json()
    assert {row["id"] for row in unusable["results"]} == {opt_in_pending.pk, later.pk, done.pk, passed.pk, expired.pk}


def test_member_offer_responses_bad_filter_is_400_and_unknown_member_404(pos, anonymous):
    member = MemberFactory()
    assert pos.get(f"/api/v1/members/{member.external_id}/offer-responses?usable=maybe").status_code == 400
    assert pos.get("/api/v1/members/NOPE/offer-responses").status_code == 404
    assert anonymous.get(f"/api/v1/members/{member.external_id}/offer-responses").status_code == 401


def test_offer_responses_list_filters_by_offer_member_and_status(marketer, member_care, pos):
    actor = Actor.system()
    offer, other_offer = OfferFactory(), OfferFactory()
    alice, bob = MemberFactory(), MemberFactory()
    a1 = offer_response_claim(member=alice, offer=offer, actor=actor)
    offer_response_claim(member=bob, offer=offer, actor=actor)
    a2 = offer_response_claim(member=alice, offer=other_offer, actor=actor)
    offer_response_transition(response=a2, to_status="canceled", actor=actor)

    def ids(query):
        answer = marketer.get(f"/api/v1/offer-responses{query}")
        assert answer.status_code == 200
        return {row["id"] for row in answer.json()["results"]}

    assert len(ids("")) == 3
    assert ids(f"?offer={offer.pk}&member={alice.external_id}") == {a1.pk}
    assert ids(f"?member={alice.external_id}&status=canceled") == {a2.pk}
    assert member_care.get("/api/v1/offer-responses").status_code == 200
    assert pos.get("/api/v1/offer-responses").status_code == 403
    assert marketer.get("/api/v1/offer-responses?status=lost").status_code == 400
    assert marketer.get("/api/v1/offer-responses?offer=abc").status_code == 400


def test_offer_responses_list_query_count_is_fixed(marketer, django_assert_num_queries):
    actor = Actor.system()
    for _ in range(3):
        offer_response_claim(member=MemberFactory(), offer=OfferFactory(), actor=actor)
    marketer.get("/api/v1/offer-responses")  # warm the token lookup cache, if any
    with django_assert_num_queries(4):
        marketer.get("/api/v1/offer-responses?page_size=2")
    for _ in range(10):
        offer_response_claim(member=MemberFactory(), offer=OfferFactory(), actor=actor)
    with django_assert_num_queries(4):
        marketer.get("/api/v1/offer-responses?page_size=12")


def test_offer_response_detail_shows_history(pos):
    response = offer_response_claim(member=MemberFactory(), offer=OfferFactory(), actor=Actor.system())
    transition(pos, response.pk, {"status": "completed", "reason": "till 4"})
    body = pos.get(f"/api/v1/offer-responses/{response.pk}").json()
    assert [(e["from_status"], e["to_status"]) for e in body["events"]] == [("", "pending"), ("pending", "completed")]
    assert body["events"][1]["reason"] == "till 4"
    assert body["events"][1]["channel"].startswith("api")
    assert pos.get("/api/v1/offer-responses/999999").status_code == 404


def test_schema_stays_valid(marketer):
    assert marketer.get("/api/schema/").status_code == 200
