"""Certificate codes change status only through rewards/lifecycle.py, whose two writers move exactly what
the transition table allows, each move with its event."""

import itertools

import pytest
from django.utils import timezone

from config.actors import Actor
from rewards import rules, services
from rewards.exceptions import CertificateCodeError
from rewards.lifecycle import certificate_code_transition, certificate_codes_transition
from rewards.models import CertificateCode, CertificateCodeEvent, RewardRedemption
from tests.members.factories import MemberFactory
from tests.rewards.factories import CertificateCodeFactory, RewardFactory
from tests.status_writes import python_files, status_writes

ACTOR = Actor(name="marketer", channel="admin")
STATUSES = list(rules.CODE_TRANSITIONS)


def _new_events():
    """The events after the set-up's (events are append-only, so the set-up's stay)."""
    return CertificateCodeEvent.objects.filter(pk__gt=_last_setup_event[0])


_last_setup_event = [0]


def _codes_in_every_status() -> dict[str, CertificateCode]:
    """One code of a free reward in each status, each got the way the product gets it."""
    reward = RewardFactory(cost_points=0)
    for _ in STATUSES:
        CertificateCodeFactory(reward=reward)
    services.reward_reserve(reward=reward, actor=ACTOR)
    services.reward_redeem(member=MemberFactory(), reward=reward, actor=ACTOR)
    services.reward_award(member=MemberFactory(), reward=reward, actor=ACTOR)
    services.certificate_code_fulfill(
        code=services.reward_award(member=MemberFactory(), reward=reward, actor=ACTOR).certificate_code, actor=ACTOR
    )
    _last_setup_event[0] = CertificateCodeEvent.objects.order_by("pk").last().pk
    codes = {code.status: code for code in CertificateCode.objects.order_by("pk")}
    assert set(codes) == set(STATUSES)
    return codes


def _what_the_move_needs(old: str, new: str, reward) -> dict:
    """A code leaving unused joins a redemption; one going to a member names the member."""
    member = None if new == rules.RESERVED else MemberFactory()
    if old != rules.UNUSED:
        return {"member": member} if old == rules.RESERVED else {}
    now = timezone.now()
    redemption = RewardRedemption.objects.create(
        reward=reward, member=member, kind=RewardRedemption.Kind.AWARD, actor="t", channel="test",
        assigned_at=now if member else None,
    )  # fmt: skip
    return {"member": member, "redemption": redemption}


def test_certificate_code_statuses_change_only_in_the_lifecycle_module():
    paths = python_files("rewards", "jobs", "config/jobs.py")
    assert status_writes(paths, writers={"rewards/lifecycle.py"}) == []


@pytest.mark.django_db
@pytest.mark.parametrize("old, new", list(itertools.product(STATUSES, STATUSES)))
def test_certificate_code_transition_moves_what_the_table_allows_and_refuses_the_rest(old, new):
    code = _codes_in_every_status()[old]

    if rules.code_transition_allowed(old, new):
        needs = _what_the_move_needs(old, new, code.reward)
        certificate_code_transition(code=code, new=new, actor=ACTOR, reason="why", **needs)
        assert CertificateCode.objects.get(pk=code.pk).status == new
        assert list(_new_events().values_list("old_status", "new_status", "reason")) == [(old, new, "why")]
    else:
        with pytest.raises(CertificateCodeError) as refused:
            certificate_code_transition(code=code, new=new, actor=ACTOR)
        assert (refused.value.code, refused.value.reasons) == ("illegal_transition", [old])
        assert CertificateCode.objects.get(pk=code.pk).status == old
        assert not _new_events().exists()


@pytest.mark.django_db
@pytest.mark.parametrize("new", STATUSES)
def test_certificate_codes_transition_moves_what_the_table_allows_except_codes_going_to_a_redemption(new):
    codes = _codes_in_every_status()

    moved = certificate_codes_transition(rows=CertificateCode.objects.all(), new=new, actor=ACTOR, reason="batch")

    # Only fulfilling moves in a set: the other allowed moves hand a code to its own redemption or member.
    allowed = {rules.REDEEMED, rules.AWARDED} if new == rules.FULFILLED else set()
    assert moved == len(allowed)
    after = dict(CertificateCode.objects.values_list("pk", "status"))
    assert {old: after[code.pk] for old, code in codes.items()} == {
        old: new if old in allowed else old for old in STATUSES
    }
    events = set(_new_events().values_list("certificate_code_id", "old_status", "new_status", "redemption"))
    assert events == {(codes[old].pk, old, new, codes[old].redemption_id) for old in allowed}
