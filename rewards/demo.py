"""Demo data: certificate rewards with codes, a bank of unassociated codes, and some redemptions."""

from django.db import transaction

from config.actors import Actor
from members.models import Member

from . import services
from .models import Reward

REWARDS = [
    # external id, name, cost in points, own codes to generate
    ("RW-CINEMA", "Cinema ticket", 500, 200),
    ("RW-COFFEE", "Free coffee", 100, 100),
    ("RW-EBOOK", "E-book download", 250, 0),  # draws only on the bank
]
BANK_CODES = 500


@transaction.atomic
def seed(*, stdout, actor: Actor) -> None:
    if Reward.objects.filter(external_id="RW-CINEMA").exists():
        stdout.write("rewards: demo data present, skipped")
        return
    rewards = {}
    for external_id, name, cost, codes in REWARDS:
        reward = services.reward_create(external_id=external_id, name=name, cost_points=cost, actor=actor)
        rewards[external_id] = reward
        if codes:
            services.certificate_codes_generate(
                count=codes, reward=reward, length=10, charset="unambiguous", actor=actor
            )
    services.certificate_codes_generate(count=BANK_CODES, reward=None, length=12, charset="unambiguous", actor=actor)

    active = Member.objects.filter(status=Member.Status.ACTIVE).order_by("external_id")
    redeemers = list(active.filter(points_balance__gte=500)[:12])
    for member in redeemers[:6]:
        services.reward_redeem(member=member, reward=rewards["RW-COFFEE"], actor=actor)
    for member in redeemers[6:9]:
        services.reward_redeem(member=member, reward=rewards["RW-CINEMA"], actor=actor)
    for member in redeemers[9:]:
        services.reward_redeem(member=member, reward=rewards["RW-EBOOK"], actor=actor)
    awarded = [
        services.reward_award(member=member, reward=rewards["RW-CINEMA"], actor=actor)
        for member in active.filter(points_balance=0)[:4]
    ]
    for redemption in awarded[:2]:
        services.certificate_code_fulfill(code=redemption.certificate_code, actor=actor, reason="demo shipment")
    services.reward_reserve(reward=rewards["RW-COFFEE"], actor=actor)
    services.reward_reserve(reward=rewards["RW-CINEMA"], kind="award", actor=actor)
    stdout.write(
        f"rewards: {len(rewards)} rewards, {sum(c for *_, c in REWARDS) + BANK_CODES} codes "
        f"({BANK_CODES} in the bank), {len(redeemers) + len(awarded) + 2} redemptions"
    )
