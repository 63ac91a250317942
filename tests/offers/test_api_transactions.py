from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.test import override_settings
from django.utils import timezone
from rest_framework.test import APIClient

from config.actors import Actor
from members.models import Member, PointsEntry
from offers.models import Fulfillment, OfferLimit, Transaction
from offers.services import transaction_record
from tests.concurrency import results_of, run_callers
from tests.members.factories import MemberFactory, OrgEntityFactory
from tests.offers.factories import (
    ActivationFactory,
    AudienceFactory,
    EarningMechanismFactory,
    LimitFactory,
    OfferFactory,
)

counter = iter(range(1, 1_000_000))


def purchase(client, member, store_code="S-MAIN", items=(("MILK", 2),), total="10.00", raw=None, **extra):
    body = {
        "transaction_id": extra.pop("transaction_id", f"T-{next(counter)}"),
        "member": member.external_id,
        "store": store_code,
        "occurred_at": extra.pop("occurred_at", timezone.now().isoformat()),
        "total_amount": total,
        "items": [{"sku": sku, "quantity": qty, "unit_price": "2.50"} for sku, qty in items],
    }
    if body["occurred_at"] is None:
        del body["occurred_at"]
    body.update(raw or {})
    return client.post("/api/v1/transactions", body, format="json", **extra)


def milk_offer(points=50, **offer_kwargs):
    offer = OfferFactory(**offer_kwargs)
    EarningMechanismFactory(offer=offer, sku="MILK", min_quantity=2, points=points)
    return offer


@pytest.mark.django_db
def test_transaction_awards_visible_eligible_offers_and_credits_points(pos):
    member = MemberFactory(points=10)
    offer = milk_offer()
    spend = OfferFactory()
    EarningMechanismFactory(
        offer=spend, behavior_type="spend", sku="", min_quantity=None, min_amount=Decimal("5"),
        award_type="points_per_unit", points=None, points_per_unit=2,
    )  # fmt: skip
    OfferFactory()  # no earning mechanism: never awards

    response = purchase(pos, member, total="10.00")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert sorted(body["awards"], key=lambda a: a["offer_id"]) == [
        {"offer_id": offer.pk, "points": 50},
        {"offer_id": spend.pk, "points": 20},
    ]
    assert body["points_balance"] == 80
    member.refresh_from_db()
    assert member.points_balance == 80
    assert member.transaction_count == 1
    assert PointsEntry.objects.filter(member=member, kind="earn").count() == 2
    row = pos.get(f"/api/v1/members/{member.external_id}/offers/{offer.pk}").json()
    assert row["fulfillment_count"] == 1


@pytest.mark.django_db
def test_transaction_below_behavior_threshold_awards_nothing(pos):
    member = MemberFactory()
    milk_offer()
    body = purchase(pos, member, items=[("MILK", 1)]).json()
    assert body["awards"] == []
    assert body["points_balance"] == 0


@pytest.mark.django_db
def test_transaction_skips_offers_not_visible_or_not_eligible(pos):
    member = MemberFactory(birth_date=date(2015, 1, 1))
    milk_offer(expire_at=timezone.now() - timedelta(days=1))
    milk_offer(discontinued_at=timezone.now() - timedelta(days=1))
    milk_offer(publish_at=timezone.now() + timedelta(days=1))
    adults = milk_offer()
    AudienceFactory(offer=adults, min_age=18)
    milk_offer(requires_activation=True)

    assert purchase(pos, member).json()["awards"] == []
    assert not Fulfillment.objects.exists()


@pytest.mark.django_db
def test_transaction_awards_opt_in_offer_once_activated(pos):
    member = MemberFactory()
    offer = milk_offer(requires_activation=True)
    assert purchase(pos, member).json()["awards"] == []
    ActivationFactory(offer=offer, member=member)
    assert purchase(pos, member).json()["awards"] == [{"offer_id": offer.pk, "points": 50}]


@pytest.mark.django_db
def test_transaction_checks_visibility_at_occurred_at(pos):
    member = MemberFactory()
    expire = timezone.now() - timedelta(hours=1)
    offer = milk_offer(expire_at=expire)
    before = purchase(pos, member, occurred_at=(expire - timedelta(seconds=1)).isoformat()).json()
    at_expiry = purchase(pos, member, occurred_at=expire.isoformat()).json()
    assert before["awards"] == [{"offer_id": offer.pk, "points": 50}]
    assert at_expiry["awards"] == []


@pytest.mark.django_db
def test_transaction_same_id_returns_first_body_with_200_and_awards_once(pos):
    member = MemberFactory()
    milk_offer()
    occurred_at = timezone.now().isoformat()
    first = purchase(pos, member, transaction_id="T-SAME", occurred_at=occurred_at)
    second = purchase(pos, member, transaction_id="T-SAME", occurred_at=occurred_at)
    assert (first.status_code, second.status_code) == (201, 200)
    assert second.json() == first.json()
    assert Fulfillment.objects.count() == 1
    assert Member.objects.get(pk=member.pk).points_balance == 50


@pytest.mark.django_db
def test_transaction_same_id_without_occurred_at_is_the_same_purchase(pos):
    """The server's clock fills a missing `occurred_at`; a till's retry of that body is still the same purchase."""
    member = MemberFactory()
    milk_offer()
    first = purchase(pos, member, transaction_id="T-NOW", occurred_at=None)
    second = purchase(pos, member, transaction_id="T-NOW", occurred_at=None)
    assert (first.status_code, second.status_code) == (201, 200)
    assert second.json() == first.json()
    assert Fulfillment.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    "change",
    [
        {"items": [{"sku": "MILK", "quantity": 9, "unit_price": "2.50"}]},
        {"total_amount": "11.00"},
        {"occurred_at": "2026-01-01T00:00:00+00:00"},
        {"member": "OTHER"},
    ],
)
def test_transaction_id_reused_with_another_body_is_409_and_never_the_first_answer(pos, change):
    member = MemberFactory()
    MemberFactory(external_id="OTHER")
    milk_offer()
    occurred_at = timezone.now().isoformat()
    first = purchase(pos, member, transaction_id="T-SAME", occurred_at=occurred_at)

    reused = purchase(pos, member, transaction_id="T-SAME", occurred_at=occurred_at, raw=change)

    assert first.status_code == 201
    assert reused.status_code == 409, reused.json()
    assert reused["Content-Type"] == "application/problem+json"
    assert reused.json()["code"] == "transaction_id_reused"
    assert reused.json()["reasons"] == ["transaction_id_reused"]
    assert "awards" not in reused.json() and "points_balance" not in reused.json()
    assert Transaction.objects.count() == 1
    assert Fulfillment.objects.count() == 1


@pytest.mark.django_db
def test_transaction_same_id_from_another_store_is_another_purchase(make_api_client, store):
    other_store = OrgEntityFactory(code="S-NORTH")
    main, north = make_api_client("pos", stores=[store]), make_api_client("pos", stores=[other_store])
    member = MemberFactory()
    milk_offer()

    first = purchase(main, member, transaction_id="0001")
    second = purchase(north, member, store_code="S-NORTH", transaction_id="0001", items=[("MILK", 4)])

    assert (first.status_code, second.status_code) == (201, 201), second.json()
    assert first.json()["points_balance"] == 50
    assert second.json()["points_balance"] == 100
    assert sorted(Transaction.objects.values_list("store__code", flat=True)) == ["S-MAIN", "S-NORTH"]
    assert Fulfillment.objects.count() == 2
    assert Member.objects.get(pk=member.pk).points_balance == 100


@pytest.mark.django_db
def test_transaction_with_an_old_occurred_at_does_not_award_an_expired_offer(pos):
    member = MemberFactory()
    milk_offer(expire_at=timezone.now() - timedelta(days=4))

    response = purchase(pos, member, occurred_at=(timezone.now() - timedelta(days=5)).isoformat())

    assert response.status_code == 409, response.json()
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "time_out_of_range"
    assert response.json()["reasons"] == ["time_out_of_range"]
    assert not Transaction.objects.exists()
    assert not Fulfillment.objects.exists()
    assert Member.objects.get(pk=member.pk).points_balance == 0


@pytest.mark.django_db
@pytest.mark.parametrize("offset, status", [(timedelta(minutes=6), 409), (timedelta(minutes=4), 201),
                                            (timedelta(hours=-71), 201), (timedelta(hours=-73), 409)])  # fmt: skip
def test_transaction_occurred_at_is_bounded_by_the_clock_skew_and_the_offline_window(pos, offset, status):
    response = purchase(pos, MemberFactory(), occurred_at=(timezone.now() + offset).isoformat())
    assert response.status_code == status, response.json()
    assert Transaction.objects.count() == (1 if status == 201 else 0)


@pytest.mark.django_db
def test_transaction_replay_of_a_recorded_purchase_answers_after_its_window_passed(pos):
    """A repeat changes nothing, so it gets the first answer even once its time is too old to record anew."""
    member = MemberFactory()
    milk_offer()
    occurred_at = timezone.now() - timedelta(hours=70)
    first = purchase(pos, member, transaction_id="T-LATE", occurred_at=occurred_at.isoformat())
    with override_settings(OFFLINE_WINDOW_HOURS=1):
        again = purchase(pos, member, transaction_id="T-LATE", occurred_at=occurred_at.isoformat())
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()


@pytest.mark.django_db
def test_transaction_honours_idempotency_key(pos):
    member = MemberFactory()
    milk_offer()
    body = {
        "transaction_id": "T-K",
        "member": member.external_id,
        "store": "S-MAIN",
        "total_amount": "5.00",
        "items": [{"sku": "MILK", "quantity": 2, "unit_price": "2.50"}],
    }
    first = pos.post("/api/v1/transactions", body, format="json", HTTP_IDEMPOTENCY_KEY="abc")
    replay = pos.post("/api/v1/transactions", body, format="json", HTTP_IDEMPOTENCY_KEY="abc")
    reused = pos.post(
        "/api/v1/transactions", {**body, "transaction_id": "T-OTHER"}, format="json", HTTP_IDEMPOTENCY_KEY="abc"
    )
    assert first.status_code == 201
    assert replay.status_code == 201 and replay.json() == first.json()
    assert reused.status_code == 422
    assert Transaction.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("limit, expected_awards", [(1, 1), (2, 2), (3, 3)])
def test_transaction_member_fulfillment_limit_at_boundary(pos, limit, expected_awards):
    member = MemberFactory()
    offer = milk_offer()
    LimitFactory(offer=offer, scope="member", max_count=limit)
    awarded = sum(bool(purchase(pos, member).json()["awards"]) for _ in range(3))
    assert awarded == expected_awards
    row = pos.get(f"/api/v1/members/{member.external_id}/offers/{offer.pk}").json()
    assert row["fulfillment_count"] == expected_awards
    assert row["visible_status"] == ("member_limit" if limit <= 3 else "visible")


@pytest.mark.django_db
def test_transaction_global_fulfillment_limit_at_boundary(pos):
    offer = milk_offer()
    LimitFactory(offer=offer, scope="global", max_count=2)
    members = [MemberFactory() for _ in range(3)]
    awarded = [bool(purchase(pos, member).json()["awards"]) for member in members]
    assert awarded == [True, True, False]
    assert OfferLimit.objects.get(offer=offer).used_count == 2
    assert pos.get(f"/api/v1/offers/{offer.pk}").json()["visible_status"] == "global_limit"
    assert pos.get(f"/api/v1/members/{members[0].external_id}/offers/{offer.pk}").json()["visible_status"] == (
        "global_limit"
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    "change",
    [
        {"member": "NOPE"},
        {"store": "NOPE"},
        {"total_amount": "lots"},
        {"total_amount": "-1"},
        {"items": [{"sku": "MILK", "quantity": 0, "unit_price": "1"}]},
        {"items": "MILK"},
        {"occurred_at": "yesterday"},
        {"transaction_id": ""},
    ],
)
def test_transaction_bad_input_is_400_and_writes_nothing(pos, change):
    member = MemberFactory()
    milk_offer()
    response = purchase(pos, member, raw=change)
    assert response.status_code == 400, response.json()
    assert not Transaction.objects.exists()


@pytest.mark.django_db
def test_transaction_store_scope_and_roles(pos, member_care, store):
    member = MemberFactory()
    OrgEntityFactory(code="S-OTHER")
    OrgEntityFactory(code="S-MAIN-T1", type="till", parent=store)
    denied = purchase(pos, member, store_code="S-OTHER")
    assert denied.status_code == 403
    assert denied.json()["code"] == "store_not_permitted"
    assert purchase(pos, member, store_code="S-MAIN-T1").status_code == 201
    assert purchase(member_care, member).status_code == 403
    assert not Transaction.objects.filter(store__code="S-OTHER").exists()


def _record(member, store, transaction_id):
    return lambda: transaction_record(
        transaction_id=transaction_id,
        member=member,
        store=store,
        total_amount=Decimal("5"),
        items=[{"sku": "MILK", "quantity": 2, "unit_price": Decimal("2.50")}],
        actor=Actor.system(),
    )


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_transaction_global_fulfillment_limit_holds_under_concurrency():
    store = OrgEntityFactory(code="S-RACE")
    offer = milk_offer()
    LimitFactory(offer=offer, scope="global", max_count=4)
    members = [MemberFactory() for _ in range(10)]

    outcomes = results_of(run_callers([_record(member, store, f"G-{n}") for n, member in enumerate(members)]))

    assert sum(bool(body["awards"]) for body, _ in outcomes) == 4
    assert Fulfillment.objects.filter(offer=offer).count() == 4
    assert OfferLimit.objects.get(offer=offer).used_count == 4
    assert PointsEntry.objects.filter(kind="earn").count() == 4


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_transaction_member_fulfillment_limit_holds_under_concurrency():
    store = OrgEntityFactory(code="S-RACE")
    offer = milk_offer()
    LimitFactory(offer=offer, scope="member", max_count=2)
    member = MemberFactory()

    results_of(run_callers([_record(member, store, f"M-{n}") for n in range(8)]))

    assert Fulfillment.objects.filter(offer=offer, member=member).count() == 2
    member.refresh_from_db()
    assert member.points_balance == 100
    assert member.transaction_count == 8


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_transaction_same_id_concurrently_awards_once():
    store = OrgEntityFactory(code="S-RACE")
    milk_offer()
    member = MemberFactory()

    outcomes = results_of(run_callers([_record(member, store, "DUP") for _ in range(6)]))

    assert sorted(created for _, created in outcomes) == [False] * 5 + [True]
    assert all(body == outcomes[0][0] for body, _ in outcomes)
    assert Fulfillment.objects.count() == 1
    member.refresh_from_db()
    assert member.points_balance == 50


def _post_purchase(token, body):
    def post():
        http = APIClient()
        http.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        response = http.post("/api/v1/transactions", body, format="json")
        return response.status_code, response.json()

    return post


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_transaction_same_id_same_store_posted_concurrently_awards_once(make_api_client):
    main, north = OrgEntityFactory(code="S-MAIN"), OrgEntityFactory(code="S-NORTH")
    main_till, north_till = make_api_client("pos", stores=[main]), make_api_client("pos", stores=[north])
    milk_offer()
    member = MemberFactory()
    body = {"transaction_id": "R-1", "member": member.external_id, "occurred_at": timezone.now().isoformat(),
            "total_amount": "5.00", "items": [{"sku": "MILK", "quantity": 2, "unit_price": "2.50"}]}  # fmt: skip

    tills = [_post_purchase(main_till.token, {**body, "store": "S-MAIN"}) for _ in range(6)]
    tills += [_post_purchase(north_till.token, {**body, "store": "S-NORTH"}) for _ in range(2)]
    outcomes = results_of(run_callers(tills))

    assert sorted(status for status, _ in outcomes) == [200] * 6 + [201] * 2
    assert sorted(answer["points_balance"] for _, answer in outcomes) in ([50] * 6 + [100] * 2, [50] * 2 + [100] * 6)
    assert Transaction.objects.count() == 2
    assert Fulfillment.objects.count() == 2
    member.refresh_from_db()
    assert member.points_balance == 100


@pytest.mark.django_db
@pytest.mark.parametrize(
    "change",
    [
        {"items": [{"sku": "MILK", "quantity": 10**12, "unit_price": "1"}]},
        {"total_amount": "1" + "0" * 15},
        {"transaction_id": "x" * 101},
        {"items": [{"sku": "MILK"}]},
    ],
)
def test_transaction_out_of_range_input_is_400(pos, change):
    response = purchase(pos, MemberFactory(), raw=change)
    assert response.status_code == 400
