import pytest
from django.db import IntegrityError, transaction

from config.actors import Actor
from members.exceptions import PointsError
from members.models import PointsEntry
from rewards import services
from rewards.exceptions import CertificateCodeError, RewardError
from rewards.models import CertificateCode, CertificateCodeEvent, RewardRedemption
from tests.members.factories import MemberFactory
from tests.rewards.factories import CertificateCodeFactory, RewardFactory

pytestmark = pytest.mark.django_db
ACTOR = Actor.system("test")


@pytest.fixture
def reward():
    return RewardFactory(external_id="R-GIFT", cost_points=100)


def test_reward_redeem_spends_points_and_takes_the_rewards_own_code_first(reward):
    member = MemberFactory(points=250)
    CertificateCodeFactory(code="BANK0001", reward=None)
    own = CertificateCodeFactory(code="OWN00001", reward=reward)

    redemption = services.reward_redeem(member=member, reward=reward, actor=ACTOR)

    own.refresh_from_db()
    assert redemption.kind == "redemption" and redemption.points_spent == 100
    assert redemption.certificate_code.code == "OWN00001"
    assert (own.status, own.member, own.redemption) == ("redeemed", member, redemption)
    member.refresh_from_db()
    assert member.points_balance == 150
    spend = PointsEntry.objects.get(member=member, kind="spend")
    assert spend.points == -100 and spend.reference == f"reward-redemption:{redemption.pk}"
    event = CertificateCodeEvent.objects.get(certificate_code=own)
    assert (event.old_status, event.new_status, event.redemption_id) == ("unused", "redeemed", redemption.pk)
    assert CertificateCode.objects.get(code="BANK0001").status == "unused"


def test_reward_redeem_draws_on_the_bank_when_the_reward_has_none_left(reward):
    member = MemberFactory(points=100)
    CertificateCodeFactory(code="USED0001", reward=reward)
    services.reward_award(member=MemberFactory(), reward=reward, actor=ACTOR)
    CertificateCodeFactory(code="BANK0001", reward=None)
    CertificateCodeFactory(code="OTHER001")  # another reward's code is never taken

    redemption = services.reward_redeem(member=member, reward=reward, actor=ACTOR)

    assert redemption.certificate_code.code == "BANK0001"
    assert CertificateCode.objects.get(code="BANK0001").reward == reward  # drawn from the bank, now the reward's
    assert CertificateCode.objects.get(code="OTHER001").status == "unused"


def test_reward_redeem_with_insufficient_points_leaves_balance_and_codes_untouched(reward):
    member = MemberFactory(points=99)
    CertificateCodeFactory(code="OWN00001", reward=reward)

    with pytest.raises(PointsError) as caught:
        services.reward_redeem(member=member, reward=reward, actor=ACTOR)

    assert caught.value.code == "insufficient_points"
    member.refresh_from_db()
    assert member.points_balance == 99
    assert CertificateCode.objects.get(code="OWN00001").status == "unused"
    assert not RewardRedemption.objects.exists() and not CertificateCodeEvent.objects.exists()
    assert not PointsEntry.objects.filter(kind="spend").exists()


def test_reward_redeem_without_codes_writes_nothing(reward):
    member = MemberFactory(points=500)

    with pytest.raises(RewardError) as caught:
        services.reward_redeem(member=member, reward=reward, actor=ACTOR)

    assert caught.value.code == "no_codes_available"
    member.refresh_from_db()
    assert member.points_balance == 500
    assert not RewardRedemption.objects.exists()
    assert not PointsEntry.objects.filter(kind="spend").exists()


def test_reward_redeem_of_inactive_reward_is_refused():
    reward = RewardFactory(inactive=True)
    CertificateCodeFactory(reward=reward)
    with pytest.raises(RewardError) as caught:
        services.reward_redeem(member=MemberFactory(points=500), reward=reward, actor=ACTOR)
    assert caught.value.code == "reward_inactive"


def test_reward_redeem_by_inactive_member_is_refused(reward):
    CertificateCodeFactory(reward=reward)
    with pytest.raises(RewardError) as caught:
        services.reward_redeem(member=MemberFactory(inactive=True, points=500), reward=reward, actor=ACTOR)
    assert caught.value.code == "member_inactive"


def test_reward_redeem_of_a_free_reward_writes_no_ledger_line():
    reward = RewardFactory(cost_points=0)
    CertificateCodeFactory(reward=reward)
    member = MemberFactory()
    redemption = services.reward_redeem(member=member, reward=reward, actor=ACTOR)
    assert redemption.points_spent == 0 and redemption.certificate_code.status == "redeemed"
    assert not PointsEntry.objects.filter(member=member).exists()


def test_reward_award_is_free_and_marks_the_code_awarded(reward):
    member = MemberFactory(points=10)
    CertificateCodeFactory(code="OWN00001", reward=reward)

    redemption = services.reward_award(member=member, reward=reward, actor=ACTOR)

    assert (redemption.kind, redemption.points_spent) == ("award", 0)
    assert redemption.certificate_code.status == "awarded"
    member.refresh_from_db()
    assert member.points_balance == 10


def test_reward_reserve_then_assign_spends_points_and_redeems(reward):
    CertificateCodeFactory(code="OWN00001", reward=reward)
    redemption = services.reward_reserve(reward=reward, actor=ACTOR)
    code = CertificateCode.objects.get(code="OWN00001")
    assert redemption.member is None and code.status == "reserved" and code.member is None

    member = MemberFactory(points=300)
    services.reward_redemption_assign(redemption=redemption, member=member, actor=ACTOR)

    code.refresh_from_db()
    redemption.refresh_from_db()
    member.refresh_from_db()
    assert (code.status, code.member) == ("redeemed", member)
    assert (redemption.member, redemption.points_spent) == (member, 100)
    assert member.points_balance == 200
    assert list(code.events.order_by("id").values_list("old_status", "new_status")) == [
        ("unused", "reserved"),
        ("reserved", "redeemed"),
    ]


def test_reward_reserve_as_award_then_assign_awards_for_free(reward):
    CertificateCodeFactory(reward=reward)
    redemption = services.reward_reserve(reward=reward, kind="award", actor=ACTOR)
    member = MemberFactory(points=5)

    services.reward_redemption_assign(redemption=redemption, member=member, actor=ACTOR)

    assert redemption.certificate_code.status == "awarded"
    member.refresh_from_db()
    assert member.points_balance == 5


def test_reward_redemption_assign_twice_is_refused(reward):
    CertificateCodeFactory(reward=reward)
    redemption = services.reward_reserve(reward=reward, kind="award", actor=ACTOR)
    services.reward_redemption_assign(redemption=redemption, member=MemberFactory(), actor=ACTOR)
    with pytest.raises(RewardError) as caught:
        services.reward_redemption_assign(redemption=redemption, member=MemberFactory(), actor=ACTOR)
    assert caught.value.code == "already_assigned"


def test_reward_redemption_assign_with_insufficient_points_keeps_it_reserved(reward):
    CertificateCodeFactory(code="OWN00001", reward=reward)
    redemption = services.reward_reserve(reward=reward, actor=ACTOR)
    with pytest.raises(PointsError):
        services.reward_redemption_assign(redemption=redemption, member=MemberFactory(points=1), actor=ACTOR)
    redemption.refresh_from_db()
    assert redemption.member is None and redemption.points_spent == 0
    assert CertificateCode.objects.get(code="OWN00001").status == "reserved"


@pytest.mark.parametrize("grant", ["redeem", "award"])
def test_certificate_code_fulfill_from_redeemed_or_awarded(reward, grant):
    CertificateCodeFactory(code="OWN00001", reward=reward)
    member = MemberFactory(points=100)
    getattr(services, f"reward_{grant}")(member=member, reward=reward, actor=ACTOR)
    code = CertificateCode.objects.get(code="OWN00001")

    services.certificate_code_fulfill(code=code, actor=ACTOR)

    code.refresh_from_db()
    assert code.status == "fulfilled" and code.fulfilled_at is not None and code.member == member


@pytest.mark.parametrize("status_maker", ["unused", "reserved", "fulfilled"])
def test_certificate_code_fulfill_from_other_statuses_is_refused(reward, status_maker):
    code = CertificateCodeFactory(code="OWN00001", reward=reward)
    if status_maker == "reserved":
        services.reward_reserve(reward=reward, actor=ACTOR)
    if status_maker == "fulfilled":
        services.reward_award(member=MemberFactory(), reward=reward, actor=ACTOR)
        services.certificate_code_fulfill(code=CertificateCode.objects.get(pk=code.pk), actor=ACTOR)
    code.refresh_from_db()

    with pytest.raises(CertificateCodeError) as caught:
        services.certificate_code_fulfill(code=code, actor=ACTOR)

    assert caught.value.code == "illegal_transition" and caught.value.reasons == [status_maker]


def test_certificate_code_transition_on_a_stale_status_is_refused(reward):
    code = CertificateCodeFactory(reward=reward)
    services.reward_award(member=MemberFactory(), reward=reward, actor=ACTOR)
    stale = CertificateCode.objects.get(pk=code.pk)
    services.certificate_code_fulfill(code=CertificateCode.objects.get(pk=code.pk), actor=ACTOR)
    with pytest.raises(CertificateCodeError) as caught:
        services.certificate_code_fulfill(code=stale, actor=ACTOR)
    assert caught.value.reasons == ["fulfilled"]
    assert CertificateCodeEvent.objects.filter(certificate_code=code, new_status="fulfilled").count() == 1


def test_database_refuses_a_used_code_without_redemption(reward):
    with pytest.raises(IntegrityError), transaction.atomic():
        CertificateCode.objects.create(code="X0000001", reward=reward, status="redeemed", member=MemberFactory())


def test_database_refuses_a_duplicate_code(reward):
    CertificateCodeFactory(code="SAME0001", reward=reward)
    with pytest.raises(IntegrityError), transaction.atomic():
        CertificateCode.objects.create(code="SAME0001", reward=None)


def test_database_refuses_a_paid_award(reward):
    with pytest.raises(IntegrityError), transaction.atomic():
        RewardRedemption.objects.create(
            reward=reward, member=MemberFactory(), kind="award", points_spent=5, actor="t", channel="t"
        )
