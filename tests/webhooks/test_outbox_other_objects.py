"""Offer responses, rewards, transactions and finished jobs write their events with the change."""

from datetime import timedelta

import pytest
from django.utils import timezone

from exports import services as export_services
from offers.responses.services import offer_response_claim, offer_response_transition, offer_responses_expire_due
from offers.services import transaction_record
from rewards import services as reward_services
from tests.members.factories import MemberFactory, OrgEntityFactory
from tests.offers.factories import OfferFactory
from tests.rewards.factories import CertificateCodeFactory, RewardFactory
from tests.webhooks.conftest import ACTOR
from webhooks import events
from webhooks.models import Event
from webhooks.payloads import thin_payloads_fill

pytestmark = pytest.mark.django_db


def of_type(type):
    return list(Event.objects.filter(type=type).order_by("pk"))


def test_an_offer_response_claim_and_each_move_write_their_events():
    offer, member = OfferFactory(external_id="O-MILK"), MemberFactory(external_id="M-1")
    response = offer_response_claim(member=member, offer=offer, actor=ACTOR)
    offer_response_transition(response=response, to_status="canceled", actor=ACTOR)

    (created,) = of_type(events.OFFER_RESPONSE_CREATED)
    assert (created.object_type, created.object_id) == ("offer_response", str(response.pk))
    assert (created.data["offer_external_id"], created.data["member_external_id"]) == ("O-MILK", "M-1")
    (changed,) = of_type(events.OFFER_RESPONSE_STATUS_CHANGED)
    assert (changed.data["previous_status"], changed.data["status"]) == (created.data["status"], "canceled")


def test_the_offer_response_sweep_writes_one_event_per_response_it_expired():
    offer = OfferFactory(allow_multiple_responses=True, expire_at=timezone.now() + timedelta(days=3))
    responses = [offer_response_claim(member=MemberFactory(), offer=offer, actor=ACTOR) for _ in range(3)]
    assert offer_responses_expire_due(actor=ACTOR, at=timezone.now() + timedelta(days=4), batch_size=2) == 3

    changed = of_type(events.OFFER_RESPONSE_STATUS_CHANGED)
    assert sorted(int(event.object_id) for event in changed) == sorted(r.pk for r in responses)
    assert {event.data["status"] for event in changed} == {"expired"}


def test_a_reward_redeem_and_an_award_write_their_events():
    reward = RewardFactory(cost_points=10)
    CertificateCodeFactory(code="GIFT0001", reward=reward)
    CertificateCodeFactory(code="GIFT0002", reward=reward)
    member = MemberFactory(points=50, external_id="M-2")
    redeemed = reward_services.reward_redeem(member=member, reward=reward, actor=ACTOR)
    reward_services.reward_award(member=member, reward=reward, actor=ACTOR)

    (event,) = of_type(events.REWARD_REDEEMED)
    assert event.data == {"redemption_id": redeemed.pk, "reward_id": reward.pk, "kind": "redemption",
                          "member_external_id": "M-2", "certificate_code": "GIFT0001", "points_spent": 10}  # fmt: skip
    (awarded,) = of_type(events.REWARD_AWARDED)
    assert (awarded.data["certificate_code"], awarded.data["points_spent"]) == ("GIFT0002", 0)


def test_a_reserved_reward_is_told_of_when_it_is_assigned():
    reward = RewardFactory(cost_points=0)
    CertificateCodeFactory(code="GIFT0003", reward=reward)
    reserved = reward_services.reward_reserve(reward=reward, actor=ACTOR)
    assert of_type(events.REWARD_REDEEMED) == []
    reward_services.reward_redemption_assign(redemption=reserved, member=MemberFactory(), actor=ACTOR)
    assert [event.object_id for event in of_type(events.REWARD_REDEEMED)] == [str(reserved.pk)]


def test_a_recorded_transaction_writes_one_event_and_a_repeat_none():
    member, store = MemberFactory(external_id="M-3"), OrgEntityFactory(type="store", code="S-9")
    for _ in range(2):
        transaction_record(transaction_id="T-1", member=member, store=store, total_amount="12.50", items=[],
                           actor=ACTOR)  # fmt: skip

    (event,) = of_type(events.TRANSACTION_RECORDED)
    assert (event.data["transaction_id"], event.data["store"], event.data["total_amount"]) == ("T-1", "S-9", "12.50")


def test_a_finished_export_run_writes_export_run_finished():
    MemberFactory()
    definition = export_services.export_definition_create(name="Members", dataset="members",
                                                          columns=["external_id"], actor=ACTOR)  # fmt: skip
    run = export_services.export_run_create(definition=definition, actor=ACTOR)
    export_services.export_run_execute(run_id=run.pk, actor=ACTOR)
    export_services.export_run_execute(run_id=run.pk, actor=ACTOR)  # a redelivered task changes nothing

    (event,) = of_type(events.EXPORT_RUN_FINISHED)
    assert event.data == {"run_id": run.pk, "status": "succeeded", "rows": 1, "error": ""}


def test_a_finished_upload_writes_upload_finished_and_its_coupons_coupon_issued(django_capture_on_commit_callbacks):
    from django.core.files.base import ContentFile

    from coupons.issuance.uploads import upload_create
    from tests.coupons.factories import CouponSeriesFactory

    member = MemberFactory(external_id="M-UP")
    series = CouponSeriesFactory()
    with django_capture_on_commit_callbacks(execute=True):
        file = ContentFile(f"user_id\n{member.user_id}\nnobody\n".encode(), name="f.csv")
        upload = upload_create(series=series, kind="members", file=file, actor=ACTOR)

    (finished,) = of_type(events.UPLOAD_FINISHED)
    assert finished.data == {"upload_id": upload.pk, "series_id": series.pk, "kind": "members", "status": "succeeded",
                             "rows": 2, "succeeded": 1, "failed": 1}  # fmt: skip
    (issued,) = of_type(events.COUPON_ISSUED)
    assert issued.data is None  # thin: built when first sent
    thin_payloads_fill([issued])
    assert (issued.data["member_external_id"], issued.data["status"]) == (member.external_id, "issued")
