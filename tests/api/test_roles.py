import pytest
from django.core.management import call_command

from config.api.models import ApiClient, hash_token
from config.api.permissions import StoreNotPermitted, ensure_store_permitted
from config.api.roles import Role
from tests.members.factories import MemberFactory, OrgEntityFactory

pytestmark = pytest.mark.django_db

MEMBER = {"external_id": "NEW-1", "email": "new@example.com"}


@pytest.mark.parametrize(
    ("role", "method", "path", "body", "expected"),
    [
        (Role.POS, "post", "/api/v1/members", MEMBER, 403),
        (Role.MEMBER_CARE, "post", "/api/v1/members", MEMBER, 201),
        (Role.MARKETER, "post", "/api/v1/members", MEMBER, 201),
        (Role.POS, "post", "/api/v1/segments", {"code": "vip", "name": "VIP"}, 403),
        (Role.MEMBER_CARE, "post", "/api/v1/segments", {"code": "vip", "name": "VIP"}, 403),
        (Role.MARKETER, "post", "/api/v1/segments", {"code": "vip", "name": "VIP"}, 201),
        (Role.MEMBER_CARE, "post", "/api/v1/org-entities", {"code": "Z1", "type": "zone", "name": "Z"}, 403),
        (Role.MARKETER, "post", "/api/v1/org-entities", {"code": "Z1", "type": "zone", "name": "Z"}, 201),
        (Role.POS, "post", "/api/v1/members/M-1/points", {"points": 5, "reason": "x"}, 403),
        (Role.MEMBER_CARE, "post", "/api/v1/members/M-1/points", {"points": 5, "reason": "x"}, 201),
        (Role.POS, "get", "/api/v1/members/M-1", None, 200),
        (Role.POS, "get", "/api/v1/members", None, 403),
        (Role.MEMBER_CARE, "get", "/api/v1/members", None, 200),
    ],
)
def test_role_matrix(make_api_client, store, role, method, path, body, expected):
    MemberFactory(external_id="M-1")
    client = make_api_client(role, stores=[store] if role == Role.POS else [])
    response = getattr(client, method)(path, body, format="json")
    assert response.status_code == expected, response.content
    if expected == 403:
        assert response["Content-Type"] == "application/problem+json"
        assert response.json()["code"] == "permission_denied"


def test_missing_or_wrong_token_answers_401(anonymous):
    assert anonymous.get("/api/v1/members").status_code == 401
    anonymous.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    response = anonymous.get("/api/v1/members")
    assert response.status_code == 401
    assert response.json()["code"] == "authentication_failed"


def test_inactive_client_is_refused(marketer):
    ApiClient.objects.filter(pk=marketer.api_client.pk).update(is_active=False)
    assert marketer.get("/api/v1/members").status_code == 401


def test_pos_client_may_act_for_its_store_and_tills_inside_it_only():
    zone = OrgEntityFactory(type="zone", code="Z-1")
    own = OrgEntityFactory(type="store", code="S-OWN", parent=zone)
    till = OrgEntityFactory(type="till", code="S-OWN-T1", parent=own)
    other = OrgEntityFactory(type="store", code="S-OTHER", parent=zone)
    client = ApiClient.objects.create(name="till", role=Role.POS, key_hash="h" * 64, key_prefix="h")
    client.stores.set([own])

    ensure_store_permitted(client, own)
    ensure_store_permitted(client, till)
    with pytest.raises(StoreNotPermitted):
        ensure_store_permitted(client, other)
    with pytest.raises(StoreNotPermitted):
        ensure_store_permitted(client, zone)


def test_create_api_client_prints_token_alone_on_last_line(capsys):
    OrgEntityFactory(type="store", code="S-9")
    call_command("create_api_client", "till-9", "--role", "pos", "--store", "S-9")
    token = capsys.readouterr().out.strip().splitlines()[-1]
    client = ApiClient.objects.get(name="till-9")
    assert client.key_hash == hash_token(token)
    assert [s.code for s in client.stores.all()] == ["S-9"]


def test_create_api_client_rejects_unknown_store():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="Unknown store"):
        call_command("create_api_client", "till-x", "--role", "pos", "--store", "NOPE")
    assert not ApiClient.objects.filter(name="till-x").exists()
