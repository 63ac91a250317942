from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils.html import format_html

from audit.admin_mixins import AppendOnlyAdminMixin, DeleteRefusalAdminMixin, HistoryAdminMixin
from config.actors import Actor
from config.admin_base import ModelAdmin, TabularInline
from config.admin_progress import JobProgressAdminMixin
from config.errors import DomainError
from config.text import code_as_words
from exports import selectors, services
from exports.datasets import dataset_get, dataset_names, registered_datasets
from exports.models import ExportDefinition, ExportRun, ExportRunEvent


def dataset_words(name: str) -> str:
    dataset = dataset_get(name)
    return (dataset.label if dataset else "") or code_as_words(name)


class ExportDefinitionForm(forms.ModelForm):
    dataset = forms.ChoiceField(choices=())
    columns = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "cols": 80}),
        help_text="Column names separated by commas, in file order; empty for all of the dataset's columns.",
    )

    class Meta:
        model = ExportDefinition
        fields = ["name", "dataset", "columns", "filters", "format", "schedule", "destination", "active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["dataset"].choices = [(name, dataset_words(name)) for name in dataset_names()]
        self.fields["filters"].required = False
        self.fields["filters"].help_text = "JSON object of filter name → value. " + "; ".join(
            f"{dataset.name}: {', '.join(dataset.filter_names) or 'none'}" for dataset in registered_datasets()
        )
        self.fields["columns"].help_text += " " + "; ".join(
            f"{dataset.name}: {', '.join(dataset.column_names)}" for dataset in registered_datasets()
        )
        if self.instance.pk:
            self.initial["columns"] = ", ".join(self.instance.columns)

    def clean_columns(self):
        return [name.strip() for name in self.cleaned_data["columns"].replace("\n", ",").split(",") if name.strip()]

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        try:
            cleaned["columns"] = services.export_definition_validate(
                dataset=cleaned["dataset"],
                columns=cleaned["columns"],
                filters=cleaned.get("filters") or {},
                schedule=(cleaned.get("schedule") or "").strip(),
                destination=cleaned.get("destination") or "",
            )
        except DomainError as exc:
            for field, problems in (exc.errors or {"dataset": [exc.message]}).items():
                for problem in problems:
                    self.add_error(field if field in self.fields else None, problem)
        return cleaned


@admin.register(ExportDefinition)
class ExportDefinitionAdmin(HistoryAdminMixin, DeleteRefusalAdminMixin, ModelAdmin):
    form = ExportDefinitionForm
    list_display = ["name", "dataset", "schedule", "destination", "active", "beat_task"]
    list_filter = ["dataset", "active"]
    list_select_related = ["periodic_task"]
    search_fields = ["name"]
    readonly_fields = ["beat_task", "created_by", "created_at", "updated_at"]
    actions = ["run_now"]
    change_form_template = "admin/exports/exportdefinition/change_form.html"

    @admin.display(description="Beat schedule")
    def beat_task(self, definition):
        if not definition.periodic_task_id:
            return self.get_empty_value_display()
        url = reverse("admin:django_celery_beat_periodictask_change", args=[definition.periodic_task_id])
        return format_html('<a href="{}">{}</a>', url, definition.schedule)

    def save_model(self, request, obj, form, change):
        values = {name: form.cleaned_data.get(name) for name in services.DEFINITION_FIELDS}
        values["filters"] = values["filters"] or {}
        actor = Actor.from_admin_user(request.user)
        if change:
            saved = services.export_definition_update(definition=obj, **values, actor=actor)
        else:
            saved = services.export_definition_create(**values, actor=actor)
        obj.pk = saved.pk
        obj.refresh_from_db()

    def delete_model(self, request, obj):
        services.export_definition_delete(definition=obj, actor=Actor.from_admin_user(request.user))

    def delete_queryset(self, request, queryset):
        for definition in queryset:
            self.delete_model(request, definition)

    @admin.action(description="Run now")
    def run_now(self, request, queryset):
        for definition in queryset:
            self._start_run(request, definition)

    def _start_run(self, request, definition):
        try:
            run = services.export_run_start(definition=definition, actor=Actor.from_admin_user(request.user))
        except DomainError as exc:
            self.message_user(request, f"{definition.name}: {exc}", messages.ERROR)
            return None
        url = reverse("admin:exports_exportrun_change", args=[run.pk])
        self.message_user(request, format_html('{}: <a href="{}">run {}</a> queued.', definition.name, url, run.pk))
        return run

    def get_urls(self):
        view = self.admin_site.admin_view(self.run_view)
        return [path("<int:pk>/run/", view, name="exports_exportdefinition_run"), *super().get_urls()]

    def run_view(self, request, pk):
        """The change page's "Run now" button: start a run and show it with its progress bar."""
        definition = get_object_or_404(ExportDefinition, pk=pk)
        if request.method != "POST" or not self.has_change_permission(request, definition):
            raise PermissionDenied
        run = self._start_run(request, definition)
        if run is None:
            return redirect("admin:exports_exportdefinition_change", pk)
        return redirect("admin:exports_exportrun_change", run.pk)


class ExportRunEventInline(AppendOnlyAdminMixin, TabularInline):
    model = ExportRunEvent
    fields = ["at", "old_status", "new_status", "actor", "channel", "reason"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    hide_title = True  # a row's title would be its statuses as codes; its columns say them in words


@admin.register(ExportRun)
class ExportRunAdmin(DeleteRefusalAdminMixin, JobProgressAdminMixin, ModelAdmin):
    list_display = ["id", "definition", "live_progress", "rows", "created_at", "duration", "download", "actor",
                    "failure_reason"]  # fmt: skip
    list_filter = ["status", "definition"]
    list_select_related = ["definition"]
    search_fields = ["=id", "definition__name"]
    show_full_result_count = False
    fields = ["definition", "live_progress", "rows", "download", "error", "attempts", "heartbeat_at", "actor",
              "channel", "created_at", "started_at", "finished_at", "duration"]  # fmt: skip
    readonly_fields = fields
    inlines = [ExportRunEventInline]

    def has_add_permission(self, request):
        return False  # runs are started from a definition

    def has_change_permission(self, request, obj=None):
        return False

    def progress_state(self, run):
        return selectors.export_run_progress(run)

    @admin.display(description="File")
    def download(self, run):
        if run.status != ExportRun.Status.SUCCEEDED or not run.file:
            return self.get_empty_value_display()
        return format_html('<a href="{}">{}</a>', reverse("admin:exports_exportrun_download", args=[run.pk]),
                           run.file.name.rsplit("/", 1)[-1])  # fmt: skip

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<int:pk>/download/", view(self.download_view), name="exports_exportrun_download"),
            *super().get_urls(),
        ]

    def _run_for(self, request, pk) -> ExportRun:
        run = get_object_or_404(ExportRun, pk=pk)
        if not self.has_view_permission(request, run):
            raise Http404
        return run

    def download_view(self, request, pk):
        run = self._run_for(request, pk)
        if run.status != ExportRun.Status.SUCCEEDED or not run.file or not default_storage.exists(run.file.name):
            raise Http404("This run has no file.")
        return FileResponse(
            default_storage.open(run.file.name, "rb"),
            as_attachment=True,
            filename=run.file.name.rsplit("/", 1)[-1],
            content_type="text/csv; charset=utf-8",
        )


from exports.reports import admin as reports_admin  # noqa: E402, F401  (the liability closes)
