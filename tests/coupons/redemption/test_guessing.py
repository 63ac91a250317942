import pytest
from django.test import override_settings
from rest_framework.test import APIClient

from config.api.models import AttemptWindow
from coupons.models import UnknownCodeBurst
from tests.concurrency import run_concurrently, wait_for_a_fresh_minute
from tests.coupons.factories import CouponFactory
from tests.members.factories import MemberFactory, OrgEntityFactory

pytestmark = pytest.mark.django_db


def try_code(pos, store, code, member, path="validate"):
    return pos.post(f"/api/v1/coupons/{path}",
                    {"code": code, "member": member.external_id, "store": store.code, "bill_amount": "10"},
                    format="json")  # fmt: skip


def counts():
    return dict(AttemptWindow.objects.values_list("key", "attempts"))


@override_settings(COUPON_UNKNOWN_CODES_PER_MINUTE=3)
def test_unknown_codes_past_the_limit_get_429_with_retry_after(pos, store):
    member = MemberFactory()
    assert try_code(pos, store, "GUESS1", member).status_code == 200
    assert try_code(pos, store, "GUESS2", member, path="redeem").status_code == 409
    assert try_code(pos, store, "GUESS3", member).status_code == 200
    blocked = try_code(pos, store, "GUESS4", member)
    assert blocked.status_code == 429
    assert blocked.json()["code"] == "too_many_unknown_codes"
    assert 1 <= int(blocked["Retry-After"]) <= 60
    assert try_code(pos, store, "GUESS5", member, path="redeem").status_code == 429
    burst = UnknownCodeBurst.objects.get()
    assert (burst.scope, burst.client, burst.store, burst.limit) == ("client", pos.api_client, store, 3)
    assert counts()[f"pos-client:{pos.api_client.pk}"] == 3


@override_settings(COUPON_UNKNOWN_CODES_PER_MINUTE=1)
def test_a_blocked_client_gets_429_for_known_codes_too(pos, store):
    coupon = CouponFactory()
    try_code(pos, store, "GUESS", coupon.member)
    assert try_code(pos, store, coupon.code, coupon.member).status_code == 429
    assert pos.get(f"/api/v1/coupons/{coupon.code}").status_code == 429


@override_settings(COUPON_UNKNOWN_CODES_PER_MINUTE=2)
def test_known_codes_failing_rules_never_count(pos, store):
    coupon = CouponFactory(status="revoked")
    for _ in range(5):
        response = try_code(pos, store, coupon.code, coupon.member)
        assert response.json()["reasons"] == ["revoked"]
        assert pos.get(f"/api/v1/coupons/{coupon.code}").status_code == 200
    assert not AttemptWindow.objects.exists()
    assert not UnknownCodeBurst.objects.exists()


@override_settings(COUPON_UNKNOWN_CODES_PER_MINUTE=2, COUPON_UNKNOWN_CODES_PER_STORE_PER_MINUTE=10)
def test_unknown_codes_are_counted_per_client(pos, store, make_api_client):
    member = MemberFactory()
    for code in ("A1", "A2"):
        try_code(pos, store, code, member)
    assert try_code(pos, store, "A3", member).status_code == 429
    other = make_api_client("pos", stores=[store])
    assert try_code(other, store, "B1", member).status_code == 200


@override_settings(COUPON_UNKNOWN_CODES_PER_MINUTE=10, COUPON_UNKNOWN_CODES_PER_STORE_PER_MINUTE=3)
def test_many_tokens_in_one_store_share_the_stores_allowance(store, make_api_client):
    member = MemberFactory()
    till = OrgEntityFactory(type="till", code="S-MAIN-T2", parent=store)
    tokens = [make_api_client("pos", stores=[store]) for _ in range(3)]
    assert try_code(tokens[0], store, "G1", member).status_code == 200
    assert try_code(tokens[1], till, "G2", member).status_code == 200  # a till counts under its store
    assert try_code(tokens[2], store, "G3", member, path="redeem").status_code == 409
    for client in tokens:
        assert try_code(client, store, "G4", member).status_code == 429
        assert try_code(client, till, "G5", member).status_code == 429
    assert make_api_client("pos", stores=[store]).get("/api/v1/coupons/G6").status_code == 429
    burst = UnknownCodeBurst.objects.get()
    assert (burst.scope, burst.store, burst.client, burst.limit) == ("store", store, tokens[2].api_client, 3)
    assert counts()[f"store:{store.pk}"] == 3
    elsewhere = OrgEntityFactory(type="store", code="S-ELSE")
    assert try_code(make_api_client("pos", stores=[elsewhere]), elsewhere, "G7", member).status_code == 200


@override_settings(COUPON_UNKNOWN_CODES_PER_MINUTE=2)
def test_reading_an_unknown_code_counts_for_a_pos_client(pos, store, member_care):
    assert pos.get("/api/v1/coupons/NOPE1").status_code == 404
    assert pos.get("/api/v1/coupons/NOPE2").status_code == 404
    blocked = pos.get("/api/v1/coupons/NOPE3")
    assert blocked.status_code == 429
    assert blocked.json()["code"] == "too_many_unknown_codes"
    assert int(blocked["Retry-After"]) >= 1
    assert counts() == {f"pos-client:{pos.api_client.pk}": 2, f"store:{store.pk}": 2}
    for _ in range(3):  # staff reading codes are not guessing at a till
        assert member_care.get("/api/v1/coupons/NOPE4").status_code == 404
    assert counts() == {f"pos-client:{pos.api_client.pk}": 2, f"store:{store.pk}": 2}


@override_settings(COUPON_UNKNOWN_CODES_PER_MINUTE=1)
def test_a_blocked_attempt_counts_under_no_key(pos, store, make_api_client):
    member = MemberFactory()
    other_store = OrgEntityFactory(type="store", code="S-TWO")
    pos.api_client.stores.add(other_store)
    try_code(pos, store, "X1", member)
    assert try_code(pos, other_store, "X2", member).status_code == 429
    assert f"store:{other_store.pk}" not in counts()


def racing_posts(clients, path, body_for, count):
    """`count` requests at once over real threads, each with its own HTTP client; their status codes."""
    http = [APIClient() for _ in range(count)]
    for index, client in enumerate(http):
        client.credentials(HTTP_AUTHORIZATION=f"Token {clients[index % len(clients)].token}")
    wait_for_a_fresh_minute()
    return run_concurrently(count, lambda i: body_for(http[i], i).status_code)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("how", ["validate", "redeem", "read"])
@override_settings(COUPON_UNKNOWN_CODES_PER_MINUTE=20)
def test_concurrent_guesses_never_pass_the_limit(make_api_client, store, how):
    pos = make_api_client("pos", stores=[store])
    member = MemberFactory()

    def guess(client, index):
        if how == "read":
            return client.get(f"/api/v1/coupons/RACE{index}")
        return try_code(client, store, f"RACE{index}", member, path=how)

    statuses = racing_posts([pos], how, guess, 60)
    unknown = {"validate": 200, "redeem": 409, "read": 404}[how]
    assert sorted(statuses) == sorted([unknown] * 20 + [429] * 40)
    assert counts() == {f"pos-client:{pos.api_client.pk}": 20, f"store:{store.pk}": 20}
    assert UnknownCodeBurst.objects.count() == 2


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@override_settings(COUPON_UNKNOWN_CODES_PER_MINUTE=20, COUPON_UNKNOWN_CODES_PER_STORE_PER_MINUTE=20)
def test_concurrent_guesses_from_many_tokens_in_one_store_never_pass_the_stores_limit(make_api_client, store):
    tokens = [make_api_client("pos", stores=[store]) for _ in range(6)]
    member = MemberFactory()
    statuses = racing_posts(tokens, "validate", lambda c, i: try_code(c, store, f"MANY{i}", member), 60)
    assert sorted(statuses) == sorted([200] * 20 + [429] * 40)
    assert counts()[f"store:{store.pk}"] == 20
