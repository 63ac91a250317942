import factory
from django.utils import timezone

from exports.models import ExportDefinition, ExportRun
from tests.jobs.factories import JobRowFactory


class ExportDefinitionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ExportDefinition

    name = factory.Sequence(lambda n: f"Export {n}")
    dataset = "members"
    columns = factory.LazyFunction(lambda: ["external_id", "email", "status"])
    filters = factory.LazyFunction(dict)
    destination = "exports/test"


class ExportRunFactory(JobRowFactory):
    class Meta:
        model = ExportRun

    definition = factory.SubFactory(ExportDefinitionFactory)

    class Params:
        succeeded = factory.Trait(status="succeeded", rows=0, finished_at=factory.LazyFunction(timezone.now))
