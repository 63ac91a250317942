"""Screens for offline batches (with the CSV upload of offline rows, judged in the background, its progress and
its report) and offline conflicts."""

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html

from audit.admin_mixins import AppendOnlyAdminMixin
from config.actors import Actor
from config.admin_base import ModelAdmin
from config.errors import DomainError
from config.tasks import enqueue_on_commit
from exports.admin_buttons import BUTTON_TEMPLATE, BackgroundExportAdminMixin
from members.models import OrgEntity
from till.offline import services, uploads
from till.offline.models import OfflineBatch, OfflineConflict
from till.tasks import offline_batch_judge_task


class OfflineBatchUploadForm(forms.ModelForm):
    file = forms.FileField(
        help_text="CSV UTF-8 with the columns code, member (external id), redeemed_at (ISO 8601 with its offset), "
        "bill_amount and optionally transaction_id; one row a redemption the till made offline."
    )

    class Meta:
        model = OfflineBatch
        fields = ["batch_id", "store"]
        help_texts = {"batch_id": "The till's name for the batch: the same file under the same id changes nothing."}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["store"].queryset = OrgEntity.objects.filter(type__in=[OrgEntity.Type.STORE, OrgEntity.Type.TILL])

    def clean_file(self):
        """The file's rows, read here so that a file that cannot be read at all is refused on the form; the
        bytes are kept for the background judging."""
        self.file_bytes = self.cleaned_data["file"].read()
        try:
            return uploads.offline_rows_read(self.file_bytes)
        except uploads.OfflineFileError as exc:
            raise forms.ValidationError(str(exc)) from exc


@admin.register(OfflineBatch)
class OfflineBatchAdmin(AppendOnlyAdminMixin, ModelAdmin):
    list_display = ["batch_id", "store", "source", "progress", "accepted_count", "rejected_count", "report_link",
                    "created_at", "actor"]  # fmt: skip
    list_filter = ["source", "created_at"]
    list_select_related = ["store"]
    search_fields = ["=batch_id"]
    show_full_result_count = False
    view_fields = ["batch_id", "store", "source", "progress", "accepted_count", "rejected_count", "report_link",
                   "actor", "channel", "created_at"]  # fmt: skip

    def has_add_permission(self, request, obj=None):
        return self.has_module_permission(request) and request.user.has_perm("till.add_offlinebatch")

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = OfflineBatchUploadForm
        return super().get_form(request, obj, **kwargs)

    def get_fields(self, request, obj=None):
        return self.view_fields if obj is not None else ["batch_id", "store", "file"]

    def get_readonly_fields(self, request, obj=None):
        return self.view_fields if obj is not None else []

    def save_model(self, request, obj, form, change):
        """The upload's batch is recorded with its file, and judged in the background (`offline_batch_judge_task`);
        the batch's page shows how far it got."""
        try:
            batch, _created = services.offline_batch_open(
                batch_id=obj.batch_id, store=obj.store, rows=form.cleaned_data["file"],
                actor=Actor.from_admin_user(request.user), source=OfflineBatch.Source.UPLOAD,
                upload_file=ContentFile(form.file_bytes, name="offline.csv"),
            )  # fmt: skip
        except DomainError as exc:
            raise PermissionDenied(str(exc)) from exc
        enqueue_on_commit(offline_batch_judge_task, batch.pk)
        obj.pk, obj._state.adding = batch.pk, False

    def save_related(self, request, form, formsets, change):
        """Nothing related is edited here."""

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<int:pk>/report.csv", view(self.report_view), name="till_offlinebatch_report"),
            *super().get_urls(),
        ]

    @admin.display(description="Rows judged")
    def progress(self, batch):
        if batch.pk is None:
            return "-"
        if batch.response_body is not None:
            return f"All {batch.total_rows:,} rows"
        return f"{services.offline_batch_answered(batch):,} of {batch.total_rows:,} rows (being judged)"

    @admin.display(description="Report")
    def report_link(self, batch):
        if batch.pk is not None and batch.response_body is None:
            return "When every row is judged"
        if batch.pk is None or not batch.rejected_count:
            return "No rejected rows" if batch.pk is not None else "-"
        url = reverse("admin:till_offlinebatch_report", args=[batch.pk])
        return format_html('<a href="{}">Download the {} rejected rows</a>', url, batch.rejected_count)

    def report_view(self, request, pk):
        if not self.has_view_permission(request):
            raise PermissionDenied
        batch = get_object_or_404(OfflineBatch, pk=pk)
        response = HttpResponse(uploads.offline_report_csv(batch), content_type="text/csv")
        response["Content-Disposition"] = f'attachment; filename="offline-batch-{batch.pk}-report.csv"'
        return response


class StoreCodeFilter(admin.SimpleListFilter):
    """A store by its code, the value the export's filter of the same name takes."""

    field = ""

    def lookups(self, request, model_admin):
        stores = OrgEntity.objects.filter(type__in=[OrgEntity.Type.STORE, OrgEntity.Type.TILL]).order_by("code")
        return [(store.code, f"{store.name} ({store.code})") for store in stores.only("code", "name")]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(**{f"{self.field}__code": self.value()})
        return queryset


class OfflineStoreFilter(StoreCodeFilter):
    title = "offline store"
    parameter_name = field = "offline_store"


class OnlineStoreFilter(StoreCodeFilter):
    title = "store that redeemed it first"
    parameter_name = field = "online_store"


@admin.register(OfflineConflict)
class OfflineConflictAdmin(BackgroundExportAdminMixin, AppendOnlyAdminMixin, ModelAdmin):
    """Codes used offline that had been redeemed elsewhere meanwhile: loss prevention's list."""

    export_dataset = "offline_conflicts"
    export_filters = {"offline_store": "offline_store", "online_store": "online_store",
                      "created_at__gte": "recorded_from", "created_at__lt": "recorded_to"}  # fmt: skip
    change_list_template = BUTTON_TEMPLATE
    list_display = ["code", "member", "offline_store", "offline_redeemed_at", "online_store", "online_redeemed_at",
                    "batch", "created_at"]  # fmt: skip
    list_filter = [OfflineStoreFilter, OnlineStoreFilter, "created_at"]
    list_select_related = ["member", "offline_store", "online_store", "batch"]
    search_fields = ["=code"]
    raw_id_fields = ["member", "coupon", "online_redemption", "batch"]
    show_full_result_count = False
