from datetime import timedelta

import factory
from django.utils import timezone

from offers.models import Activation, Audience, EarningMechanism, MarketingContent, Offer, OfferLimit, OfferResponse
from tests.members.factories import MemberFactory


class OfferFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Offer

    external_id = factory.Sequence(lambda n: f"OFF-{n:05d}")
    name = factory.LazyAttribute(lambda o: f"Offer {o.external_id}")
    category = "grocery"

    class Params:
        opt_in = factory.Trait(requires_activation=True)
        # A coupon series that expires with its offer needs an offer that expires.
        expiring = factory.Trait(expire_at=factory.LazyFunction(lambda: timezone.now() + timedelta(days=365)))


class EarningMechanismFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EarningMechanism

    offer = factory.SubFactory(OfferFactory)
    behavior_type = EarningMechanism.Behavior.PURCHASE_PRODUCT
    sku = "SKU-1"
    min_quantity = 1
    award_type = EarningMechanism.Award.POINTS
    points = 100


class LimitFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OfferLimit

    offer = factory.SubFactory(OfferFactory)
    scope = OfferLimit.Scope.GLOBAL
    kind = OfferLimit.Kind.FULFILLMENT
    max_count = 1


class AudienceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Audience

    offer = factory.SubFactory(OfferFactory)
    type = Audience.Type.AGE
    min_age = 18


class MarketingContentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MarketingContent

    offer = factory.SubFactory(OfferFactory)
    locale = "en-US"
    title = "Save more"


class ActivationFactory(factory.django.DjangoModelFactory):
    """A member's opt-in row written directly, without the activation service's limits."""

    class Meta:
        model = Activation

    offer = factory.SubFactory(OfferFactory, opt_in=True)
    member = factory.SubFactory(MemberFactory)
    actor = "t"
    channel = "test"


class OfferResponseFactory(factory.django.DjangoModelFactory):
    """A response row written directly (pending by default), without the claim service's rules."""

    class Meta:
        model = OfferResponse

    member = factory.SubFactory(MemberFactory)
    offer = factory.SubFactory(OfferFactory)
    status = OfferResponse.Status.PENDING
    requires_activation = factory.LazyAttribute(lambda o: o.offer.requires_activation)
    offer_snapshot = factory.LazyFunction(dict)

    class Params:
        clipped = factory.Trait(status=OfferResponse.Status.CLIPPED)
        completed = factory.Trait(status=OfferResponse.Status.COMPLETED)
        canceled = factory.Trait(status=OfferResponse.Status.CANCELED)
        expired = factory.Trait(
            status=OfferResponse.Status.EXPIRED,
            expires_at=factory.LazyFunction(lambda: timezone.now() - timedelta(days=1)),
        )
