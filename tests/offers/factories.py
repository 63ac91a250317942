import factory

from offers.models import Audience, EarningMechanism, MarketingContent, Offer, OfferLimit


class OfferFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Offer

    external_id = factory.Sequence(lambda n: f"OFF-{n:05d}")
    name = factory.LazyAttribute(lambda o: f"Offer {o.external_id}")
    category = "grocery"

    class Params:
        opt_in = factory.Trait(requires_activation=True)


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
