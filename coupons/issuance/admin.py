"""Screens for uploads and bulk issuance jobs, with their live progress."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html

from config.actors import Actor
from config.admin_base import ModelAdmin
from config.admin_progress import JobProgressAdminMixin
from config.errors import DomainError
from coupons import selectors
from coupons.issuance import uploads
from coupons.models import BulkIssueJob, Upload


class UploadForm(forms.ModelForm):
    class Meta:
        model = Upload
        fields = ["series", "kind", "file"]


@admin.register(Upload)
class UploadAdmin(JobProgressAdminMixin, ModelAdmin):
    form = UploadForm
    list_display = ["id", "series", "kind", "status", "progress", "total_rows", "succeeded", "failed", "issues_link",
                    "created_at", "failure_reason"]  # fmt: skip
    list_filter = ["status", "kind"]
    list_select_related = ["series"]
    autocomplete_fields = ["series"]

    # The upload's page (view only: an upload is not edited) shows its live progress bar.
    view_fields = ["series", "kind", "file_link", "live_progress", "total_rows", "processed_rows", "succeeded",
                   "failed", "issues_link", "error", "attempts", "heartbeat_at", "actor", "channel", "created_at",
                   "finished_at"]  # fmt: skip

    def get_fields(self, request, obj=None):
        return self.view_fields if obj is not None else super().get_fields(request, obj)

    def get_readonly_fields(self, request, obj=None):
        return self.view_fields if obj is not None else []

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<int:pk>/issues.csv", view(self.issues_view), name="coupons_upload_issues"),
            path("<int:pk>/file/", view(self.file_view), name="coupons_upload_file"),
            *super().get_urls(),
        ]

    def progress_state(self, upload):
        return selectors.upload_progress(upload)

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description="Progress")
    def progress(self, upload):
        return format_html(
            '<progress value="{}" max="100" title="{} of {} rows">{}%</progress>',
            upload.progress_percent,
            upload.processed_rows,
            upload.total_rows,
            upload.progress_percent,
        )

    @admin.display(description="Issues")
    def issues_link(self, upload):
        if not upload.failed:
            return "-"
        return format_html('<a href="{}">Download issues</a>', reverse("admin:coupons_upload_issues", args=[upload.pk]))

    @admin.display(description="File")
    def file_link(self, upload):
        # Not the FileField's own link: MEDIA_ROOT is not served, the file downloads through this admin.
        if not upload.file:
            return self.get_empty_value_display()
        return format_html('<a href="{}">{}</a>', reverse("admin:coupons_upload_file", args=[upload.pk]),
                           upload.file.name.rsplit("/", 1)[-1])  # fmt: skip

    def _upload_for(self, request, pk) -> Upload:
        upload = get_object_or_404(Upload, pk=pk)
        if not self.has_view_permission(request, upload):
            raise PermissionDenied
        return upload

    def issues_view(self, request, pk):
        upload = self._upload_for(request, pk)
        response = HttpResponse(uploads.upload_report_csv(upload), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{uploads.upload_report_filename(upload)}"'
        return response

    def file_view(self, request, pk):
        upload = self._upload_for(request, pk)
        if not upload.file or not upload.file.storage.exists(upload.file.name):
            raise Http404("This upload's file is no longer in storage.")
        return FileResponse(upload.file.open("rb"), as_attachment=True, filename=upload.file.name.rsplit("/", 1)[-1],
                            content_type="text/csv; charset=utf-8")  # fmt: skip

    def save_model(self, request, obj, form, change):
        try:
            upload = uploads.upload_create(
                series=form.cleaned_data["series"],
                kind=form.cleaned_data["kind"],
                file=form.cleaned_data["file"],
                actor=Actor.from_admin_user(request.user),
            )
        except DomainError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return
        obj.pk = upload.pk


@admin.register(BulkIssueJob)
class BulkIssueJobAdmin(JobProgressAdminMixin, ModelAdmin):
    list_display = ["id", "series", "source", "segment", "status", "progress", "issued", "skipped", "chunks_done",
                    "created_at", "failure_reason"]  # fmt: skip
    list_select_related = ["series", "segment"]
    list_filter = ["status"]
    fields = ["series", "source", "segment", "live_progress", "total_members", "issued", "skipped", "chunks_done",
              "chunk_size", "chunks_in_parallel", "error", "attempts", "heartbeat_at", "actor", "channel",
              "created_at", "started_at", "finished_at"]  # fmt: skip
    readonly_fields = fields

    def has_add_permission(self, request):
        return False  # jobs are started from the coupon series action

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description="Progress")
    def progress(self, job):
        if job.total_members is None:
            return f"{job.members_done:,} / ?"
        return f"{job.members_done:,} / {job.total_members:,} ({job.progress_percent}%)"

    def progress_state(self, job):
        return selectors.bulk_issue_job_progress(job)
