"""The screens of admin import jobs (jobs.imports): progress while one runs, then its counts, each row's errors
(the first SHOWN_ISSUES on the page, every one in the error report) and, after a clean review, "Confirm import"."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse

from config.actors import Actor
from config.admin_base import ModelAdmin
from config.admin_progress import JobProgressAdminMixin
from config.errors import DomainError
from config.progress import job_progress
from jobs.imports import SHOWN_ISSUES, admin_import_confirm, import_job_report_csv_lines
from jobs.models import ImportJob

WRITE_RIGHTS = ("add", "change")


class ImportJobAdmin(JobProgressAdminMixin, ModelAdmin):
    """An admin import's page: progress while it runs, then its counts, its rows' errors and what comes next."""

    list_display = ["id", "kind", "model", "file_name", "live_progress", "new", "updated", "skipped", "errors",
                    "actor", "created_at", "failure_reason"]  # fmt: skip
    list_filter = ["status", "dry_run", "model"]
    list_select_related = ["model"]
    search_fields = ["=id", "file_name"]
    show_full_result_count = False
    fields = ["kind", "model", "file_name", "live_progress", "new", "updated", "skipped", "errors", "error",
              "review", "attempts", "heartbeat_at", "actor", "channel", "created_at", "finished_at"]  # fmt: skip
    readonly_fields = fields
    change_form_template = "admin/imports/importjob/change_form.html"

    def has_add_permission(self, request):
        return False  # jobs start from a list's Import page

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_view_permission(self, request, obj=None):
        # Whoever started an import follows it, without needing the right to see everyone's.
        own = obj is not None and request.user.is_staff and obj.user_id == request.user.pk
        return own or super().has_view_permission(request, obj)

    @admin.display(description="Kind")
    def kind(self, job):
        return "Review (nothing written)" if job.dry_run else "Import"

    def progress_state(self, job):
        return job_progress(job, done=job.processed_rows, total=job.total_rows, finished=job.is_finished,
                            new=job.new, updated=job.updated, skipped=job.skipped, errors=job.errors)  # fmt: skip

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<int:pk>/confirm/", view(self.confirm_view), name="jobs_importjob_confirm"),
            path("<int:pk>/report/", view(self.report_view), name="jobs_importjob_report"),
            *super().get_urls(),
        ]

    def _job_for(self, request, pk) -> ImportJob:
        job = get_object_or_404(ImportJob.objects.select_related("model"), pk=pk)
        if not self.has_view_permission(request, job):
            raise Http404
        return job

    def _model_admin(self, job):
        return self.admin_site._registry.get(job.model.model_class())

    def _may_import(self, request, job) -> bool:
        # Confirming writes rows: the right to import and to add or change the rows of the list imported into.
        model_admin = self._model_admin(job)
        return (
            model_admin is not None
            and model_admin.has_import_permission(request)
            and any(request.user.has_perm(f"{job.model.app_label}.{kind}_{job.model.model}") for kind in WRITE_RIGHTS)
        )

    def change_view(self, request, object_id, form_url="", extra_context=None):
        job = self._job_for(request, object_id)
        confirmed = ImportJob.objects.filter(review=job).first()
        opts = job.model.model_class()._meta
        context = {
            "job": job,
            "shown_issues": list(job.issues.all()[:SHOWN_ISSUES]),
            "issue_count": job.issues.count(),
            "can_confirm": job.dry_run and job.status == ImportJob.Status.SUCCEEDED and not job.errors
            and confirmed is None and self._may_import(request, job),
            "confirmed_import": confirmed,
            "target_changelist": reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"),
            "target_import": reverse(f"admin:{opts.app_label}_{opts.model_name}_import"),
            "target_name": opts.verbose_name_plural,
            "issue_titles": ["Row", "Field", "In the file", "Error"],
        }  # fmt: skip
        return super().change_view(request, object_id, form_url, {**(extra_context or {}), **context})

    def confirm_view(self, request, pk):
        job = self._job_for(request, pk)
        if request.method != "POST":
            return redirect("admin:jobs_importjob_change", job.pk)
        if not self._may_import(request, job):
            raise PermissionDenied
        try:
            imported = admin_import_confirm(review_id=job.pk, user=request.user,
                                            actor=Actor.from_admin_user(request.user))  # fmt: skip
        except DomainError as exc:
            self.message_user(request, str(exc), level=messages.ERROR)
            return redirect("admin:jobs_importjob_change", job.pk)
        self.message_user(request, "The import runs in the background; this page shows its progress.")
        return redirect("admin:jobs_importjob_change", imported.pk)

    def report_view(self, request, pk):
        job = self._job_for(request, pk)
        response = StreamingHttpResponse(import_job_report_csv_lines(job), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="import-{job.pk}-errors.csv"'
        return response


admin.site.register(ImportJob, ImportJobAdmin)
