import factory

from rewards.models import CertificateCode, Reward


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


class CertificateCodeFactory(factory.django.DjangoModelFactory):
    """An unused code; `reward=None` puts it in the bank."""

    class Meta:
        model = CertificateCode

    code = factory.Sequence(lambda n: f"CODE{n:08d}")
    reward = factory.SubFactory(RewardFactory)
    status = CertificateCode.Status.UNUSED
