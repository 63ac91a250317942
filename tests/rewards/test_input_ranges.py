"""Rewards and certificate codes: cost, count and length at and past their ranges, read back from the database."""

import pytest
from django.urls import reverse

from config import ranges
from rewards.models import CertificateCode, Reward
from tests.extremes import inside, outside
from tests.members.factories import MemberFactory

pytestmark = pytest.mark.django_db


def reward_body(cost):
    return {"external_id": "R-1", "name": "Gift", "type": "certificate", "cost_points": cost, "active": True}


@pytest.mark.parametrize("cost", outside(ranges.REWARD_COST))
def test_reward_cost_outside_its_range_is_400(marketer, cost):
    response = marketer.post("/api/v1/rewards", reward_body(cost), format="json")

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["cost_points"]
    assert not Reward.objects.exists()


@pytest.mark.parametrize("cost", inside(ranges.REWARD_COST))
def test_reward_cost_at_its_bounds_is_stored_exactly(marketer, cost):
    response = marketer.post("/api/v1/rewards", reward_body(cost), format="json")

    assert response.status_code == 201, response.json()
    assert Reward.objects.values_list("cost_points", flat=True).get() == cost


@pytest.mark.parametrize(
    "field, value",
    [*(("count", value) for value in outside(ranges.CERTIFICATE_CODES_PER_REQUEST)),
     *(("length", value) for value in outside(ranges.CERTIFICATE_CODE_LENGTH))],
)  # fmt: skip
def test_code_generation_outside_its_ranges_is_400_naming_the_field(marketer, field, value):
    body = {"count": 10, "reward": None, "length": 10, "charset": "alphanumeric", field: value}

    response = marketer.post("/api/v1/certificate-codes/generate", body, format="json")

    assert response.status_code == 400
    assert list(response.json()["errors"]) == [field]
    assert not CertificateCode.objects.exists()


@pytest.mark.parametrize("length", inside(ranges.CERTIFICATE_CODE_LENGTH))
def test_code_generation_at_the_length_bounds_makes_codes_of_that_length(marketer, length):
    body = {"count": 3, "reward": None, "length": length, "charset": "alphanumeric"}

    response = marketer.post("/api/v1/certificate-codes/generate", body, format="json")

    assert response.status_code == 201, response.json()
    assert {len(code) for code in CertificateCode.objects.values_list("code", flat=True)} == {length}


@pytest.mark.parametrize("cost", [str(2**32 + 5), str(2**31), "-1", str(ranges.REWARD_COST.max + 1)])
def test_reward_admin_form_refuses_a_cost_outside_its_range(admin_client, cost):
    data = {"external_id": "R-1", "name": "Gift", "type": "certificate", "cost_points": cost, "active": "on",
            "created_at_0": "2026-01-01", "created_at_1": "00:00:00"}  # fmt: skip

    response = admin_client.post(reverse("admin:rewards_reward_add"), data)

    assert response.status_code == 200
    assert "cost_points" in response.context["adminform"].form.errors
    assert not Reward.objects.exists()


@pytest.mark.parametrize("field, value", [("count", str(2**32 + 5)), ("count", "0"), ("length", str(2**31))])
def test_generate_admin_form_refuses_values_outside_their_ranges(admin_client, field, value):
    data = {"count": "5", "reward": "", "length": "10", "charset": "unambiguous", field: value}

    response = admin_client.post(reverse("admin:rewards_certificatecode_generate"), data)

    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert not CertificateCode.objects.exists()


@pytest.mark.parametrize("reward_id", [2**31, 2**63, 2**64 + 5])
def test_code_generation_for_a_reward_id_past_any_column_is_400(marketer, reward_id):
    body = {"count": 3, "reward": reward_id, "length": 10, "charset": "alphanumeric"}

    response = marketer.post("/api/v1/certificate-codes/generate", body, format="json")

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["reward"]


@pytest.mark.parametrize("reward_id", [2**31, 2**63, 2**64 + 5])
def test_redeeming_a_reward_id_past_any_column_is_404(member_care, reward_id):
    member = MemberFactory(points=100)

    response = member_care.post(f"/api/v1/members/{member.external_id}/rewards/{reward_id}/redeem")

    assert response.status_code == 404
