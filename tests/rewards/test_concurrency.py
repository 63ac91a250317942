import pytest
from django.db.models import Sum

from config.actors import Actor
from members.models import Member
from rewards import services
from rewards.models import CertificateCode, CertificateCodeEvent, Reward, RewardRedemption
from tests.concurrency import run_concurrently
from tests.members.factories import MemberFactory
from tests.rewards.factories import CertificateCodeFactory, RewardFactory

REDEEMERS = 16
OWN_CODES = 3
BANK_CODES = 2


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_reward_redeem_by_more_concurrent_redeemers_than_codes_uses_each_code_once():
    reward = RewardFactory(cost_points=100)
    for n in range(OWN_CODES):
        CertificateCodeFactory(code=f"OWN{n:05d}", reward=reward)
    for n in range(BANK_CODES):
        CertificateCodeFactory(code=f"BANK{n:04d}", reward=None)
    members = [MemberFactory(external_id=f"M-RACE-{i:02d}", points=250) for i in range(REDEEMERS)]
    points_before = sum(m.points_balance for m in Member.objects.filter(external_id__startswith="M-RACE"))

    def redeem(index):
        member = Member.objects.get(pk=members[index].pk)
        redemption = services.reward_redeem(
            member=member, reward=Reward.objects.get(pk=reward.pk), actor=Actor.system()
        )
        return redemption.certificate_code.code

    outcomes = run_concurrently(REDEEMERS, redeem)

    won = [o for o in outcomes if o != "no_codes_available"]
    assert len(outcomes) == REDEEMERS
    assert sorted(won) == sorted(
        [f"OWN{n:05d}" for n in range(OWN_CODES)] + [f"BANK{n:04d}" for n in range(BANK_CODES)]
    )
    assert outcomes.count("no_codes_available") == REDEEMERS - OWN_CODES - BANK_CODES
    assert not CertificateCode.objects.filter(status="unused").exists()
    assert RewardRedemption.objects.count() == OWN_CODES + BANK_CODES
    assert CertificateCodeEvent.objects.count() == OWN_CODES + BANK_CODES
    # No points lost or created: what members hold plus what redemptions spent is what they had.
    balances = Member.objects.filter(external_id__startswith="M-RACE").aggregate(total=Sum("points_balance"))["total"]
    spent = RewardRedemption.objects.aggregate(total=Sum("points_spent"))["total"]
    assert balances + spent == points_before
    assert spent == 100 * (OWN_CODES + BANK_CODES)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_reward_redeem_concurrently_by_one_member_never_overspends():
    reward = RewardFactory(cost_points=100)
    for n in range(8):
        CertificateCodeFactory(code=f"OWN{n:05d}", reward=reward)
    member = MemberFactory(external_id="M-RICH", points=300)

    def redeem(index):
        fresh = Member.objects.get(pk=member.pk)
        return services.reward_redeem(member=fresh, reward=reward, actor=Actor.system()).certificate_code.code

    outcomes = run_concurrently(8, redeem)

    assert outcomes.count("insufficient_points") == 5
    assert CertificateCode.objects.filter(status="redeemed").count() == 3
    assert CertificateCode.objects.filter(status="unused").count() == 5
    assert Member.objects.get(pk=member.pk).points_balance == 0


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_reward_redemption_assign_concurrently_assigns_once():
    reward = RewardFactory(cost_points=50)
    CertificateCodeFactory(reward=reward)
    redemption = services.reward_reserve(reward=reward, actor=Actor.system())
    members = [MemberFactory(external_id=f"M-AS-{i}", points=100) for i in range(6)]

    def assign(index):
        fresh = RewardRedemption.objects.select_related("reward").get(pk=redemption.pk)
        services.reward_redemption_assign(redemption=fresh, member=members[index], actor=Actor.system())
        return "assigned"

    outcomes = run_concurrently(6, assign)

    assert outcomes.count("assigned") == 1 and outcomes.count("already_assigned") == 5
    assert sum(Member.objects.filter(external_id__startswith="M-AS-").values_list("points_balance", flat=True)) == 550


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_reward_redeem_over_http_by_concurrent_tills_hands_out_each_code_once(pos):
    from rest_framework.test import APIClient

    reward = RewardFactory(cost_points=10)
    for n in range(4):
        CertificateCodeFactory(code=f"OWN{n:05d}", reward=reward)
    for i in range(10):
        MemberFactory(external_id=f"M-HTTP-{i}", points=10)
    token = pos.token

    def redeem(index):
        http = APIClient()
        http.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        response = http.post(f"/api/v1/members/M-HTTP-{index}/rewards/{reward.pk}/redeem")
        body = response.json()
        return body["certificate_code"] if response.status_code == 201 else body["code"]

    outcomes = run_concurrently(10, redeem)

    assert sorted(o for o in outcomes if o.startswith("OWN")) == [f"OWN{n:05d}" for n in range(4)]
    assert outcomes.count("no_codes_available") == 6
    assert Member.objects.filter(external_id__startswith="M-HTTP-", points_balance=0).count() == 4
