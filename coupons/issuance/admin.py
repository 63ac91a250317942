"""Screens for uploads and bulk issuance jobs, with their live progress.

An upload's add page says which columns each kind of file takes and offers a template of each; the form refuses a
file it can already tell will not work (not UTF-8, no identifier or code column) and an upload the series does not
take, as one error on the form; a finished upload's page lists its errors row by row.
"""

import codecs
import csv

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.loader import render_to_string
from django.urls import path, reverse
from django.utils.html import format_html

from config.actors import Actor
from config.admin_base import ModelAdmin
from config.admin_progress import JobProgressAdminMixin
from config.errors import DomainError
from coupons import selectors
from coupons.issuance import uploads
from coupons.models import BulkIssueJob, Upload

# Each kind's columns, as the add page explains them and its template file holds them.
UPLOAD_COLUMNS = {
    Upload.Kind.MEMBERS: {
        "columns": [("external_id", "the member's external id; or instead one of mobile, email, user_id")],
        "rule": "One identifier column per file: external_id, mobile, email or user_id. Each row issues one coupon "
        "to that member, as the series' rules allow.",
        "template": [["external_id"], ["M0000001"], ["M0000002"]],
    },
    Upload.Kind.CODES: {
        "columns": [
            ("code", "an existing coupon code, 4 to 64 letters, digits or dashes"),
            ("external_id", "optional: the member the code is issued to (or mobile, email, user_id)"),
        ],
        "rule": "A code without a member is added to the series unissued; with a member, it is issued to them. "
        "Only a series whose codes are uploaded takes codes.",
        "template": [["code", "external_id"], ["SPRING-0001", "M0000001"], ["SPRING-0002", ""]],
    },
}
UPLOAD_ERRORS_SHOWN = 200
HEADER_PEEK_BYTES = 64 * 1024
SAVE_AS_UTF8 = "Save it as CSV UTF-8 (with or without a byte order mark) and upload it again."


def upload_file_problem(file, kind: str) -> str:
    """Why the file cannot be an upload of this kind, from its first bytes (empty when it may be): the worker
    checks the whole file again, this only saves a marketer waiting for a file that was never going to work."""
    head = file.read(HEADER_PEEK_BYTES)
    file.seek(0)
    try:
        text = codecs.getincrementaldecoder("utf-8-sig")(errors="strict").decode(head, final=False)
    except UnicodeDecodeError:
        return (
            "The file is not UTF-8 text. Save it as CSV UTF-8 (with or without a byte order mark) and upload it again."
        )
    if "\x00" in text:
        return f"The file is not UTF-8 text (it holds NUL bytes, as UTF-16 files do). {SAVE_AS_UTF8}"
    header = [name.strip().lower() for name in next(csv.reader(text.splitlines()[:1]), [])]
    identifiers = [name for name in uploads.IDENTIFIERS if name in header]
    if kind == Upload.Kind.MEMBERS and not identifiers:
        return (
            f"A members file needs one identifier column ({', '.join(uploads.IDENTIFIERS)}); its first line is "
            f"“{', '.join(header) or 'empty'}”."
        )
    if kind == Upload.Kind.CODES and "code" not in header:
        return f"A codes file needs a “code” column; its first line is “{', '.join(header) or 'empty'}”."
    if len(identifiers) > 1:
        return f"Name one identifier column, not {', '.join(identifiers)}."
    return ""


class UploadForm(forms.ModelForm):
    """Creates the upload through the service as it validates, so a refusal is this form's one error."""

    actor = None  # set by the admin for each request

    class Meta:
        model = Upload
        fields = ["series", "kind", "file"]
        help_texts = {"file": "A CSV file in UTF-8, with a header line; see the columns each kind takes above."}

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        problem = upload_file_problem(data["file"], data["kind"])
        if problem:
            raise ValidationError({"file": problem})
        try:
            self.created = uploads.upload_create(series=data["series"], kind=data["kind"], file=data["file"],
                                                 actor=self.actor)  # fmt: skip
        except DomainError as exc:
            raise ValidationError({"kind": exc.message}) from exc
        return data


@admin.register(Upload)
class UploadAdmin(JobProgressAdminMixin, ModelAdmin):
    form = UploadForm
    add_form_template = "admin/coupons/upload/add_form.html"
    list_display = ["id", "series", "kind", "status", "progress", "total_rows", "succeeded", "failed", "issues_link",
                    "created_at", "failure_reason"]  # fmt: skip
    list_filter = ["status", "kind"]
    list_select_related = ["series"]
    autocomplete_fields = ["series"]

    # The upload's page (view only: an upload is not edited) shows its live progress bar and its rows' errors.
    view_fields = ["series", "kind", "file_link", "live_progress", "total_rows", "processed_rows", "succeeded",
                   "failed", "row_errors", "error", "attempts", "heartbeat_at", "actor", "channel", "created_at",
                   "finished_at"]  # fmt: skip

    def get_fields(self, request, obj=None):
        return self.view_fields if obj is not None else super().get_fields(request, obj)

    def get_readonly_fields(self, request, obj=None):
        return self.view_fields if obj is not None else []

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        form.actor = Actor.from_admin_user(request.user)
        return form

    def add_view(self, request, form_url="", extra_context=None):
        kinds = [{"kind": kind, "label": label, **UPLOAD_COLUMNS[kind],
                  "template_url": reverse("admin:coupons_upload_template", args=[kind])}
                 for kind, label in Upload.Kind.choices]  # fmt: skip
        return super().add_view(request, form_url, {**(extra_context or {}), "upload_kinds": kinds})

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<int:pk>/issues.csv", view(self.issues_view), name="coupons_upload_issues"),
            path("<int:pk>/file/", view(self.file_view), name="coupons_upload_file"),
            path("template/<str:kind>.csv", view(self.template_view), name="coupons_upload_template"),
            *super().get_urls(),
        ]

    def template_view(self, request, kind):
        if kind not in UPLOAD_COLUMNS:
            raise Http404("No upload takes this kind of file.")
        if not self.has_view_permission(request):
            raise PermissionDenied
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        csv.writer(response).writerows(UPLOAD_COLUMNS[kind]["template"])
        response["Content-Disposition"] = f'attachment; filename="upload-{kind}-template.csv"'
        return response

    def progress_state(self, upload):
        return selectors.upload_progress(upload)

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description="Progress")
    def progress(self, upload):
        if upload.status == Upload.Status.FAILED:
            return upload.get_status_display()  # a failed file shows as failed, not as a full bar
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

    @admin.display(description="Errors by row")
    def row_errors(self, upload):
        if not upload.failed:
            return "No row had an error." if upload.status == Upload.Status.SUCCEEDED else "-"
        issues = list(upload.issues.order_by("row", "id")[:UPLOAD_ERRORS_SHOWN])
        return render_to_string("admin/coupons/upload/_row_errors.html", {
            "issues": issues, "failed": upload.failed, "shown": len(issues),
            "report_url": reverse("admin:coupons_upload_issues", args=[upload.pk]),
        })  # fmt: skip

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
        obj.pk = form.created.pk  # the form created it through the service

    def save_related(self, request, form, formsets, change):
        pass  # an upload has no related rows to save from its form

    def response_add(self, request, obj, post_url_continue=None):
        upload = Upload.objects.get(pk=obj.pk)
        if upload.status == Upload.Status.FAILED:
            self.message_user(request, f"Upload {upload.pk} failed: {upload.error}", messages.ERROR)
        else:
            state = upload.get_status_display().lower()
            self.message_user(request, f"Upload {upload.pk} is {state}; this page shows its progress and, once it "
                                       "finishes, its rows' errors.", messages.SUCCESS)  # fmt: skip
        return redirect(reverse("admin:coupons_upload_change", args=[upload.pk]))


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
