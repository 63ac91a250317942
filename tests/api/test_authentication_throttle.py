"""Failed token authentications are throttled per address; the address is REMOTE_ADDR unless a trusted proxy says."""

import pytest
from django.test import RequestFactory, override_settings
from rest_framework.test import APIClient

from config.api.authentication import client_address
from config.api.models import AttemptWindow
from tests.concurrency import run_concurrently, wait_for_a_fresh_minute
from tests.coupons.factories import CouponFactory
from tests.members.factories import MemberFactory

pytestmark = pytest.mark.django_db

ATTACKER, NEIGHBOUR = "203.0.113.9", "198.51.100.4"


def from_address(address, token=None):
    client = APIClient(REMOTE_ADDR=address)
    if token:
        client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def fail_from(address, times):
    return [from_address(address, f"wrong-{i}").get("/api/v1/offers").status_code for i in range(times)]


@override_settings(API_AUTH_FAILURES_PER_MINUTE=3)
def test_failures_past_the_limit_answer_429_with_retry_after(marketer):
    assert fail_from(ATTACKER, 3) == [401, 401, 401]
    blocked = from_address(ATTACKER, "wrong-again").get("/api/v1/offers")
    assert blocked.status_code == 429
    assert blocked["Content-Type"] == "application/problem+json"
    assert blocked.json()["code"] == "too_many_failed_authentications"
    assert 1 <= int(blocked["Retry-After"]) <= 60
    assert AttemptWindow.objects.get(key=f"address:{ATTACKER}").attempts == 3  # the refused one did not count


@override_settings(API_AUTH_FAILURES_PER_MINUTE=2)
def test_a_blocked_address_is_refused_even_with_a_correct_token(marketer, pos, store):
    fail_from(ATTACKER, 2)
    assert from_address(ATTACKER, marketer.token).get("/api/v1/offers").status_code == 429
    coupon = CouponFactory()
    till = from_address(ATTACKER, pos.token)
    body = {"code": coupon.code, "member": coupon.member.external_id, "store": store.code, "bill_amount": "5"}
    for path in ("/api/v1/coupons/validate", "/api/v1/coupons/redeem"):
        answer = till.post(path, body, format="json")
        assert answer.status_code == 429
        assert answer.json()["code"] == "too_many_failed_authentications"
    assert till.post("/api/v1/coupons/validate", {"code": coupon.code}, format="json").status_code == 429
    other_role = from_address(ATTACKER, marketer.token).post("/api/v1/coupons/validate", body, format="json")
    assert other_role.status_code == 429  # not the 403 that would tell the token is good
    assert from_address(NEIGHBOUR, marketer.token).get("/api/v1/offers").status_code == 200
    assert from_address(NEIGHBOUR, pos.token).post("/api/v1/coupons/validate", body, format="json").status_code == 200


@override_settings(API_AUTH_FAILURES_PER_MINUTE=1)
def test_requests_without_a_token_neither_count_nor_are_blocked(marketer):
    for _ in range(3):
        assert from_address(ATTACKER).get("/api/v1/offers").status_code == 401
    assert not AttemptWindow.objects.exists()
    assert fail_from(ATTACKER, 2) == [401, 429]
    assert from_address(ATTACKER).get("/api/v1/offers").status_code == 401
    MemberFactory(external_id="M-1")
    assert from_address(ATTACKER, marketer.token).get("/api/v1/members/M-1").status_code == 429


@override_settings(API_AUTH_FAILURES_PER_MINUTE=1)
def test_a_malformed_authorization_header_counts_as_a_failure():
    client = APIClient(REMOTE_ADDR=ATTACKER)
    client.credentials(HTTP_AUTHORIZATION="Token two words")
    assert client.get("/api/v1/offers").status_code == 401
    assert client.get("/api/v1/offers").status_code == 429


def address_of(remote, forwarded=None):
    extra = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return client_address(RequestFactory().get("/api/v1/offers", **extra))


def test_the_address_is_remote_addr_without_trusted_proxies():
    assert address_of(ATTACKER, forwarded="1.2.3.4") == ATTACKER


@override_settings(TRUSTED_PROXIES=["10.0.0.0/8", "192.0.2.1"])
def test_behind_trusted_proxies_the_address_is_the_first_untrusted_hop_from_the_right():
    assert address_of("10.0.0.5", forwarded="1.2.3.4, 203.0.113.7, 192.0.2.1") == "203.0.113.7"
    assert address_of("10.0.0.5", forwarded="10.1.1.1") == "10.1.1.1"  # only proxies: the left-most hop
    assert address_of("10.0.0.5") == "10.0.0.5"
    assert address_of(ATTACKER, forwarded="10.0.0.7") == ATTACKER  # a client may not claim a proxy's word


@override_settings(API_AUTH_FAILURES_PER_MINUTE=2, TRUSTED_PROXIES=["10.0.0.0/8"])
def test_behind_a_trusted_proxy_failures_count_per_forwarded_address(marketer):
    def via_proxy(forwarded, token):
        client = APIClient(REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR=forwarded)
        client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        return client.get("/api/v1/offers").status_code

    assert [via_proxy(ATTACKER, "bad") for _ in range(3)] == [401, 401, 429]
    assert via_proxy(NEIGHBOUR, marketer.token) == 200
    assert via_proxy(f"{NEIGHBOUR}, {ATTACKER}", marketer.token) == 429  # a spoofed hop on the left is ignored


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@override_settings(API_AUTH_FAILURES_PER_MINUTE=20)
def test_concurrent_failures_never_pass_the_limit():
    clients = [from_address(ATTACKER, f"wrong-{i}") for i in range(60)]
    wait_for_a_fresh_minute()
    statuses = run_concurrently(60, lambda i: clients[i].get("/api/v1/offers").status_code)
    assert sorted(statuses) == sorted([401] * 20 + [429] * 40)
    assert AttemptWindow.objects.get(key=f"address:{ATTACKER}").attempts == 20
