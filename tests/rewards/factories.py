import factory
from django.utils import timezone

from rewards.models import CertificateCode, Reward, RewardRedemption
from tests.members.factories import MemberFactory


class RewardFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Reward
        django_get_or_create = ["external_id"]

    external_id = factory.Sequence(lambda n: f"R-{n:04d}")
    name = factory.LazyAttribute(lambda o: f"Gift card {o.external_id}")
    cost_points = 100
    active = True

    class Params:
        inactive = factory.Trait(active=False)


class RewardRedemptionFactory(factory.django.DjangoModelFactory):
    """A redemption row written directly, assigned to a member; `anonymous=True` leaves it unassigned."""

    class Meta:
        model = RewardRedemption

    reward = factory.SubFactory(RewardFactory)
    member = factory.SubFactory(MemberFactory)
    kind = RewardRedemption.Kind.REDEMPTION
    points_spent = 0
    actor = "t"
    channel = "test"
    assigned_at = factory.LazyFunction(timezone.now)

    class Params:
        anonymous = factory.Trait(member=None, assigned_at=None)


def _redemption_of_the_code(*, anonymous=False):
    """The redemption a used code points at: of the code's reward (a bank code's is any reward), and its member."""
    return factory.SubFactory(
        RewardRedemptionFactory,
        reward=factory.LazyAttribute(lambda o: o.factory_parent.reward or RewardFactory()),
        member=None if anonymous else factory.SelfAttribute("..member"),
        anonymous=anonymous,
    )


class CertificateCodeFactory(factory.django.DjangoModelFactory):
    """An unused code; `reward=None` puts it in the bank. Traits make it reserved, assigned, awarded or fulfilled."""

    class Meta:
        model = CertificateCode

    code = factory.Sequence(lambda n: f"CODE{n:08d}")
    reward = factory.SubFactory(RewardFactory)
    status = CertificateCode.Status.UNUSED

    class Params:
        reserved = factory.Trait(
            status=CertificateCode.Status.RESERVED,
            redemption=_redemption_of_the_code(anonymous=True),
            assigned_at=factory.LazyFunction(timezone.now),
        )
        assigned = factory.Trait(
            status=CertificateCode.Status.REDEEMED,
            member=factory.SubFactory(MemberFactory),
            redemption=_redemption_of_the_code(),
            assigned_at=factory.LazyFunction(timezone.now),
        )
        awarded = factory.Trait(assigned=True, status=CertificateCode.Status.AWARDED)
        fulfilled = factory.Trait(assigned=True, status=CertificateCode.Status.FULFILLED,
                                  fulfilled_at=factory.LazyFunction(timezone.now))  # fmt: skip
