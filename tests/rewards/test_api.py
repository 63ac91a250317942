import pytest

from members.models import PointsEntry
from rewards.models import CertificateCode, Reward, RewardRedemption
from tests.members.factories import MemberFactory
from tests.rewards.factories import CertificateCodeFactory, RewardFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def reward():
    return RewardFactory(external_id="R-GIFT", cost_points=100)


def redeem_url(member, reward_id):
    return f"/api/v1/members/{member}/rewards/{reward_id}/redeem"


# --- rewards ---------------------------------------------------------------------------------


def test_reward_create_answers_201(marketer):
    body = {"external_id": "R-1", "name": "Cinema ticket", "type": "certificate", "cost_points": 500, "active": True}
    response = marketer.post("/api/v1/rewards", body, format="json")
    assert response.status_code == 201
    assert response.json() | {"id": 0, "created_at": ""} == body | {"id": 0, "created_at": "", "codes_unused": 0}
    assert Reward.objects.get(external_id="R-1").cost_points == 500


def test_reward_create_with_bad_fields_answers_400(marketer):
    response = marketer.post("/api/v1/rewards", {"external_id": "R-1", "type": "coupon", "cost_points": -1})
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"name", "type", "cost_points"}


def test_reward_create_twice_answers_409(marketer, reward):
    response = marketer.post("/api/v1/rewards", {"external_id": "R-GIFT", "name": "x", "cost_points": 1})
    assert response.status_code == 409 and response.json()["code"] == "reward_exists"


@pytest.mark.parametrize("role", ["pos", "member_care"])
def test_reward_create_by_other_roles_answers_403(make_api_client, store, role):
    response = make_api_client(role, stores=[store]).post(
        "/api/v1/rewards", {"external_id": "R-1", "name": "x", "cost_points": 1}
    )
    assert response.status_code == 403


def test_reward_list_and_detail_are_set_up_read_by_marketers_only(marketer, pos, member_care, reward):
    CertificateCodeFactory.create_batch(2, reward=reward)
    CertificateCodeFactory(reward=None)
    response = marketer.get("/api/v1/rewards")
    assert response.status_code == 200
    assert [(r["external_id"], r["codes_unused"]) for r in response.json()["results"]] == [("R-GIFT", 2)]
    assert marketer.get(f"/api/v1/rewards/{reward.pk}").json()["cost_points"] == 100
    assert marketer.get("/api/v1/rewards/999999").status_code == 404
    for other in (pos, member_care):
        assert other.get("/api/v1/rewards").status_code == 403
        assert other.get(f"/api/v1/rewards/{reward.pk}").status_code == 403


# --- generation ------------------------------------------------------------------------------


def test_certificate_codes_generate_answers_201(marketer, reward):
    body = {"count": 25, "reward": reward.pk, "length": 10, "charset": "alphanumeric"}
    response = marketer.post("/api/v1/certificate-codes/generate", body, format="json")
    assert response.status_code == 201
    assert response.json() == {"created": 25, "reward": reward.pk, "length": 10, "charset": "alphanumeric"}
    assert CertificateCode.objects.filter(reward=reward, status="unused").count() == 25


def test_certificate_codes_generate_for_the_bank(marketer):
    body = {"count": 5, "reward": None, "length": 8, "charset": "numeric"}
    response = marketer.post("/api/v1/certificate-codes/generate", body, format="json")
    assert response.status_code == 201
    assert CertificateCode.objects.filter(reward__isnull=True).count() == 5


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"count": "many", "reward": None}, "count"),
        ({"count": 5, "reward": 999999}, "reward"),
        ({"count": 5, "reward": None, "charset": "emoji"}, "charset"),
        ({"count": 500_000, "reward": None, "length": 8, "charset": "numeric"}, "length"),
    ],
)
def test_certificate_codes_generate_with_bad_input_answers_400(marketer, body, field):
    response = marketer.post("/api/v1/certificate-codes/generate", body, format="json")
    assert response.status_code == 400 and field in response.json()["errors"]
    assert not CertificateCode.objects.exists()


def test_certificate_codes_generate_by_member_care_answers_403(member_care):
    response = member_care.post("/api/v1/certificate-codes/generate", {"count": 5, "reward": None}, format="json")
    assert response.status_code == 403


# --- redeem ----------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["pos", "member_care"])
def test_reward_redeem_answers_201_with_the_code(make_api_client, store, reward, role):
    MemberFactory(external_id="M-1", points=250)
    CertificateCodeFactory(code="OWN00001", reward=reward)

    response = make_api_client(role, stores=[store]).post(redeem_url("M-1", reward.pk))

    assert response.status_code == 201
    body = response.json()
    assert {k: body[k] for k in ("kind", "certificate_code", "code_status", "points_spent", "points_balance")} == {
        "kind": "redemption",
        "certificate_code": "OWN00001",
        "code_status": "redeemed",
        "points_spent": 100,
        "points_balance": 150,
    }
    assert body["redemption_id"] == RewardRedemption.objects.get().pk


def test_reward_redeem_insufficient_points_answers_409(pos, reward):
    MemberFactory(external_id="M-1", points=50)
    CertificateCodeFactory(reward=reward)
    response = pos.post(redeem_url("M-1", reward.pk))
    assert response.status_code == 409
    assert response.json()["code"] == "insufficient_points"
    assert response["Content-Type"] == "application/problem+json"


def test_reward_redeem_without_codes_answers_409(pos, reward):
    MemberFactory(external_id="M-1", points=500)
    response = pos.post(redeem_url("M-1", reward.pk))
    assert response.status_code == 409 and response.json()["code"] == "no_codes_available"


def test_reward_redeem_inactive_reward_answers_409(pos):
    reward = RewardFactory(inactive=True)
    MemberFactory(external_id="M-1", points=500)
    CertificateCodeFactory(reward=reward)
    response = pos.post(redeem_url("M-1", reward.pk))
    assert response.status_code == 409 and response.json()["code"] == "reward_inactive"


def test_reward_redeem_unknown_member_or_reward_answers_404(pos, reward):
    MemberFactory(external_id="M-1", points=500)
    assert pos.post(redeem_url("M-404", reward.pk)).status_code == 404
    assert pos.post(redeem_url("M-1", 999999)).status_code == 404
    assert pos.post(redeem_url("M-1", "abc")).status_code == 404


def test_reward_redeem_by_marketer_answers_403(marketer, reward):
    MemberFactory(external_id="M-1", points=500)
    assert marketer.post(redeem_url("M-1", reward.pk)).status_code == 403


def test_reward_redeem_replayed_with_the_same_key_redeems_once(pos, reward):
    MemberFactory(external_id="M-1", points=500)
    CertificateCodeFactory.create_batch(2, reward=reward)
    first = pos.post(redeem_url("M-1", reward.pk), HTTP_IDEMPOTENCY_KEY="k-1")
    again = pos.post(redeem_url("M-1", reward.pk), HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert RewardRedemption.objects.count() == 1
    assert PointsEntry.objects.filter(kind="spend").count() == 1


# --- award, reserve, assign ------------------------------------------------------------------


def test_reward_award_answers_201_without_spending(member_care, reward):
    MemberFactory(external_id="M-1", points=10)
    CertificateCodeFactory(code="OWN00001", reward=reward)
    response = member_care.post(f"/api/v1/rewards/{reward.pk}/award", {"member": "M-1"}, format="json")
    assert response.status_code == 201
    body = response.json()
    assert (body["kind"], body["code_status"], body["points_spent"], body["points_balance"]) == (
        "award",
        "awarded",
        0,
        10,
    )


def test_reward_award_with_unknown_member_answers_400(member_care, reward):
    response = member_care.post(f"/api/v1/rewards/{reward.pk}/award", {"member": "M-404"}, format="json")
    assert response.status_code == 400 and "member" in response.json()["errors"]


def test_reward_award_unknown_reward_answers_404(member_care):
    MemberFactory(external_id="M-1")
    assert member_care.post("/api/v1/rewards/999999/award", {"member": "M-1"}, format="json").status_code == 404


def test_reward_award_without_codes_answers_409(marketer, reward):
    MemberFactory(external_id="M-1")
    response = marketer.post(f"/api/v1/rewards/{reward.pk}/award", {"member": "M-1"}, format="json")
    assert response.status_code == 409 and response.json()["code"] == "no_codes_available"


def test_reward_award_by_pos_answers_403(pos, reward):
    MemberFactory(external_id="M-1")
    assert pos.post(f"/api/v1/rewards/{reward.pk}/award", {"member": "M-1"}, format="json").status_code == 403


def test_reward_reserve_then_assign_over_the_api(member_care, reward):
    MemberFactory(external_id="M-1", points=300)
    CertificateCodeFactory(code="OWN00001", reward=reward)

    reserved = member_care.post(f"/api/v1/rewards/{reward.pk}/reserve")
    assert reserved.status_code == 201
    body = reserved.json()
    assert (body["code_status"], body["member"], body["points_balance"]) == ("reserved", None, None)

    assigned = member_care.post(
        f"/api/v1/reward-redemptions/{body['redemption_id']}/assign", {"member": "M-1"}, format="json"
    )
    assert assigned.status_code == 200
    result = assigned.json()
    assert (result["code_status"], result["member"], result["points_spent"], result["points_balance"]) == (
        "redeemed",
        "M-1",
        100,
        200,
    )


def test_reward_reserve_with_bad_kind_answers_400(member_care, reward):
    response = member_care.post(f"/api/v1/rewards/{reward.pk}/reserve", {"kind": "gift"}, format="json")
    assert response.status_code == 400 and "kind" in response.json()["errors"]


def test_reward_reserve_by_pos_answers_403(pos, reward):
    assert pos.post(f"/api/v1/rewards/{reward.pk}/reserve").status_code == 403


def test_reward_redemption_assign_errors(member_care, pos, reward):
    MemberFactory(external_id="M-1")
    CertificateCodeFactory(reward=reward)
    redemption_id = member_care.post(f"/api/v1/rewards/{reward.pk}/reserve", {"kind": "award"}).json()["redemption_id"]
    url = f"/api/v1/reward-redemptions/{redemption_id}/assign"

    assert member_care.post(url, {}, format="json").status_code == 400
    assert pos.post(url, {"member": "M-1"}, format="json").status_code == 403
    assert member_care.post("/api/v1/reward-redemptions/999999/assign", {"member": "M-1"}).status_code == 404
    assert member_care.post(url, {"member": "M-1"}, format="json").status_code == 200
    again = member_care.post(url, {"member": "M-1"}, format="json")
    assert again.status_code == 409 and again.json()["code"] == "already_assigned"


# --- list and fulfil -------------------------------------------------------------------------


def test_certificate_code_list_filters_by_code_status_and_reward(member_care, reward, django_assert_max_num_queries):
    other = RewardFactory()
    CertificateCodeFactory(code="OWN00001", reward=reward)
    CertificateCodeFactory(code="OWN00002", reward=reward)
    CertificateCodeFactory(code="OTH00001", reward=other)
    CertificateCodeFactory(code="BANK0001", reward=None)
    member = MemberFactory(external_id="M-1")
    from config.actors import Actor
    from rewards.services import reward_award

    reward_award(member=member, reward=reward, actor=Actor.system())

    with django_assert_max_num_queries(4):
        rows = member_care.get("/api/v1/certificate-codes", {"reward": reward.pk}).json()["results"]
    assert sorted(row["code"] for row in rows) == ["OWN00001", "OWN00002"]
    awarded = member_care.get("/api/v1/certificate-codes", {"status": "awarded"}).json()["results"]
    assert awarded == [
        {
            "code": "OWN00001",
            "status": "awarded",
            "reward": reward.pk,
            "member": "M-1",
            "redemption_id": RewardRedemption.objects.get().pk,
            "created_at": awarded[0]["created_at"],
            "status_changed_at": awarded[0]["status_changed_at"],
            "fulfilled_at": None,
        }
    ]
    for query in ({"code": "BANK0001"}, {"bank": "true"}):
        rows = member_care.get("/api/v1/certificate-codes", query).json()["results"]
        assert [r["code"] for r in rows] == ["BANK0001"]
    assert member_care.get("/api/v1/certificate-codes", {"status": "lost"}).status_code == 400


def test_a_till_reads_one_members_codes_but_never_the_list(pos, reward):
    member, other = MemberFactory(external_id="M-1"), MemberFactory(external_id="M-2")
    from config.actors import Actor
    from rewards.services import reward_award

    CertificateCodeFactory(code="OWN00001", reward=reward)
    CertificateCodeFactory(code="OWN00002", reward=reward)
    CertificateCodeFactory(code="BANK0001", reward=None)
    reward_award(member=member, reward=reward, actor=Actor.system())
    reward_award(member=other, reward=reward, actor=Actor.system())
    rows = pos.get("/api/v1/members/M-1/certificate-codes").json()["results"]
    assert [(row["member"], row["status"]) for row in rows] == [("M-1", "awarded")]
    assert pos.get("/api/v1/members/NOBODY/certificate-codes").status_code == 404
    assert pos.get("/api/v1/certificate-codes").status_code == 403
    assert pos.get("/api/v1/certificate-codes", {"member": "M-1"}).status_code == 403


def test_certificate_code_list_query_count_does_not_grow_with_the_page(marketer, django_assert_max_num_queries):
    for n in range(30):
        reward = RewardFactory()
        CertificateCodeFactory(code=f"C{n:07d}", reward=reward)
    with django_assert_max_num_queries(4):
        assert len(marketer.get("/api/v1/certificate-codes").json()["results"]) == 30


def test_certificate_code_fulfill_answers_200_then_409(marketer, reward):
    CertificateCodeFactory(code="OWN00001", reward=reward)
    MemberFactory(external_id="M-1")
    marketer.post(f"/api/v1/rewards/{reward.pk}/award", {"member": "M-1"}, format="json")

    response = marketer.post("/api/v1/certificate-codes/OWN00001/fulfill")
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["member"]) == ("fulfilled", "M-1")

    again = marketer.post("/api/v1/certificate-codes/OWN00001/fulfill")
    assert again.status_code == 409
    assert (again.json()["code"], again.json()["reasons"]) == ("illegal_transition", ["fulfilled"])


def test_certificate_code_fulfill_of_unused_code_answers_409(marketer, reward):
    CertificateCodeFactory(code="OWN00001", reward=reward)
    response = marketer.post("/api/v1/certificate-codes/OWN00001/fulfill")
    assert response.status_code == 409 and response.json()["reasons"] == ["unused"]


def test_certificate_code_fulfill_unknown_code_answers_404_and_other_roles_403(marketer, member_care, reward):
    CertificateCodeFactory(code="OWN00001", reward=reward)
    assert marketer.post("/api/v1/certificate-codes/NOPE/fulfill").status_code == 404
    assert member_care.post("/api/v1/certificate-codes/OWN00001/fulfill").status_code == 403


def test_schema_documents_the_reward_endpoints(anonymous):
    response = anonymous.get("/api/schema/")
    assert response.status_code == 200
    schema = response.content.decode()
    for path in (
        "/api/v1/rewards",
        "/api/v1/certificate-codes/generate",
        "/api/v1/members/{external_id}/rewards/{reward_id}/redeem",
        "/api/v1/reward-redemptions/{redemption_id}/assign",
        "/api/v1/certificate-codes/{code}/fulfill",
    ):
        assert path in schema


def test_every_granting_post_honours_idempotency_keys():
    from rewards.api import views

    for view in (
        views.RewardRedeemApi,
        views.RewardAwardApi,
        views.RewardReserveApi,
        views.RewardRedemptionAssignApi,
        views.CertificateCodeGenerateApi,
        views.CertificateCodeFulfillApi,
    ):
        assert getattr(view.post, "idempotent", False), view.__name__


def test_reward_award_replayed_with_the_same_key_awards_once(member_care, reward):
    MemberFactory(external_id="M-1")
    CertificateCodeFactory.create_batch(2, reward=reward)
    url = f"/api/v1/rewards/{reward.pk}/award"
    first = member_care.post(url, {"member": "M-1"}, format="json", HTTP_IDEMPOTENCY_KEY="a-1")
    again = member_care.post(url, {"member": "M-1"}, format="json", HTTP_IDEMPOTENCY_KEY="a-1")
    assert first.status_code == again.status_code == 201 and first.json() == again.json()
    assert RewardRedemption.objects.count() == 1
