import io

import pytest

from config.actors import Actor
from members import demo as members_demo
from rewards import demo
from rewards.models import CertificateCode, Reward, RewardRedemption

pytestmark = pytest.mark.django_db


def test_demo_seed_creates_rewards_codes_and_redemptions_once():
    actor = Actor.cli("test")
    members_demo.seed(stdout=io.StringIO(), actor=actor)

    demo.seed(stdout=io.StringIO(), actor=actor)
    out = io.StringIO()
    demo.seed(stdout=out, actor=actor)

    assert "skipped" in out.getvalue()
    assert Reward.objects.count() == 3
    assert CertificateCode.objects.count() == 800
    statuses = set(CertificateCode.objects.values_list("status", flat=True))
    assert {"unused", "redeemed", "awarded", "fulfilled", "reserved"} <= statuses
    assert RewardRedemption.objects.filter(member__isnull=True).count() == 2
    assert RewardRedemption.objects.filter(kind="redemption", points_spent__gt=0).exists()
