"""django-import-export's Import page, with the work in a background job instead of inside the request.

The user picks the file and its format as before. The request only stores the file (in MEDIA_ROOT, which is
never served) and queues a review of it (jobs.imports); the user lands on the review's page, which shows its
progress, then the counts and every row's errors, and, after a review without errors, "Confirm import", which
queues the import itself. The request returns at once, whatever the file's size.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.urls import reverse

from config.actors import Actor
from config.errors import DomainError
from jobs.imports import admin_import_start


class BackgroundImportAdminMixin:
    import_template_name = "admin/imports/import.html"

    def import_action(self, request, **kwargs):
        if not self.has_import_permission(request):
            raise PermissionDenied
        if request.method != "POST":
            return super().import_action(request, **kwargs)
        form = self.create_import_form(request)
        if not form.is_valid():
            return super().import_action(request, **kwargs)  # the form again, with its errors; nothing is read
        try:
            job = admin_import_start(
                model=self.model,
                resource_class=self.choose_import_resource_class(form, request),
                input_format_class=self.get_import_formats()[int(form.cleaned_data["format"])],
                file=form.cleaned_data["import_file"],
                user=request.user,
                actor=Actor.from_admin_user(request.user),
            )
        except DomainError as exc:
            self.message_user(request, str(exc), level=messages.ERROR)
            return redirect(request.path)
        self.message_user(request, "The file is being checked in the background; nothing is written until you "
                                   "confirm the import on this page.")  # fmt: skip
        return redirect(reverse("admin:jobs_importjob_change", args=[job.pk]))

    def process_import(self, request, **kwargs):
        """The in-request confirmation step no longer exists: imports are confirmed on their review's page."""
        if not self.has_import_permission(request):
            raise PermissionDenied
        self.message_user(request, "Imports are confirmed on their review's page, listed under Imports.",
                          level=messages.WARNING)  # fmt: skip
        opts = self.model._meta
        return redirect(reverse(f"admin:{opts.app_label}_{opts.model_name}_import"))
