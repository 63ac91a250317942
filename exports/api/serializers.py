from django.urls import reverse
from rest_framework import serializers

from exports.datasets import dataset_names
from exports.models import ExportDefinition, ExportRun


class ExportDefinitionInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    dataset = serializers.ChoiceField(choices=[])
    filters = serializers.DictField(required=False, default=dict)
    columns = serializers.ListField(child=serializers.CharField(max_length=100), required=False, default=list)
    format = serializers.ChoiceField(choices=ExportDefinition.Format.choices, default=ExportDefinition.Format.CSV)
    schedule = serializers.CharField(max_length=100, required=False, allow_null=True, allow_blank=True, default="")
    destination = serializers.CharField(max_length=200, required=False, default="exports")
    active = serializers.BooleanField(required=False, default=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The contract's names and any other registered dataset; registration happens at start-up.
        self.fields["dataset"].choices = dataset_names()


class ExportDefinitionUpdateSerializer(ExportDefinitionInputSerializer):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, partial=True, **kwargs)


class ExportDefinitionOutputSerializer(serializers.ModelSerializer):
    schedule = serializers.SerializerMethodField()

    class Meta:
        model = ExportDefinition
        fields = ["id", "name", "dataset", "filters", "columns", "format", "schedule", "destination", "active",
                  "created_at", "updated_at"]  # fmt: skip

    def get_schedule(self, definition) -> str | None:
        return definition.schedule or None


class ExportRunOutputSerializer(serializers.ModelSerializer):
    file_url = serializers.SerializerMethodField()
    definition = serializers.PrimaryKeyRelatedField(read_only=True)
    duration_seconds = serializers.SerializerMethodField()
    progress = serializers.SerializerMethodField()

    class Meta:
        model = ExportRun
        fields = ["id", "definition", "status", "rows", "file_url", "error", "progress", "created_at", "started_at",
                  "finished_at", "duration_seconds", "actor", "channel"]  # fmt: skip

    def get_file_url(self, run) -> str | None:
        if run.status != ExportRun.Status.SUCCEEDED or not run.file:
            return None
        path = reverse("export-run-file", args=[run.pk])
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request else path

    def get_duration_seconds(self, run) -> float | None:
        return run.duration.total_seconds() if run.duration is not None else None

    def get_progress(self, run) -> dict:
        return {"done": run.progress_done, "total": run.progress_total}


class ExportRunStartedSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.CharField()
