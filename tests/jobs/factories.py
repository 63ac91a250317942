import factory
from django.utils import timezone


class JobRowFactory(factory.django.DjangoModelFactory):
    """What every background job row (upload, bulk issue, export run) shares: queued by default, one trait a state.

    The rows are written directly, without the services that move them, so no event or task comes with them.
    """

    class Meta:
        abstract = True

    status = "queued"
    actor = "t"
    channel = "test"

    class Params:
        running = factory.Trait(status="running")
        succeeded = factory.Trait(status="succeeded", finished_at=factory.LazyFunction(timezone.now))
        failed = factory.Trait(
            status="failed", error="failed in a test", finished_at=factory.LazyFunction(timezone.now)
        )
