import factory
from django.utils import timezone

from members.models import Member, OrgEntity, Segment


class SegmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Segment
        django_get_or_create = ["code"]
        skip_postgeneration_save = True

    code = factory.Sequence(lambda n: f"segment-{n}")
    name = factory.LazyAttribute(lambda o: o.code.title())

    @factory.post_generation
    def member_count(self, create, extracted, **kwargs):
        """`SegmentFactory(member_count=3)`: three new members in the segment."""
        if create and extracted:
            MemberFactory.create_batch(extracted, segments=[self])


class OrgEntityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OrgEntity
        django_get_or_create = ["code"]

    code = factory.Sequence(lambda n: f"ORG{n:04d}")
    type = OrgEntity.Type.STORE
    name = factory.LazyAttribute(lambda o: f"{o.type.title()} {o.code}")
    time_zone = "UTC"
    currency = "USD"


class MemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Member
        django_get_or_create = ["external_id"]
        skip_postgeneration_save = True

    external_id = factory.Sequence(lambda n: f"M{n:07d}")
    email = factory.LazyAttribute(lambda o: f"{o.external_id.lower()}@example.com")
    mobile = factory.Sequence(lambda n: f"+1555{n:07d}")
    user_id = factory.LazyAttribute(lambda o: f"u-{o.external_id}")
    first_name = "Ada"
    last_name = "Lovelace"
    registered_at = factory.LazyFunction(timezone.now)
    status = Member.Status.ACTIVE

    class Params:
        inactive = factory.Trait(status=Member.Status.INACTIVE)

    @factory.post_generation
    def segments(self, create, extracted, **kwargs):
        if create and extracted:
            self.segments.set(extracted)

    @factory.post_generation
    def points(self, create, extracted, **kwargs):
        if create and extracted:
            from config.actors import Actor
            from members.services import points_adjust

            points_adjust(member=self, points=extracted, reason="test balance", actor=Actor.system())
