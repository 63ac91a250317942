import factory

from exports.models import ExportDefinition


class ExportDefinitionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ExportDefinition

    name = factory.Sequence(lambda n: f"Export {n}")
    dataset = "members"
    columns = factory.LazyFunction(lambda: ["external_id", "email", "status"])
    filters = factory.LazyFunction(dict)
    destination = "exports/test"
