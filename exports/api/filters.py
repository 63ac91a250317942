import django_filters

from exports.models import ExportDefinition, ExportRun


class ExportDefinitionFilterSet(django_filters.FilterSet):
    class Meta:
        model = ExportDefinition
        fields = ["dataset", "active"]


class ExportRunFilterSet(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=ExportRun.Status.choices)

    class Meta:
        model = ExportRun
        fields = ["definition", "status"]
