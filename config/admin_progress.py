"""A long job's live progress bar in its model admin (templates/admin/includes/job_progress.html).

The admin gets a `live_progress` display (for list_display or readonly fields) and a JSON view at
`<pk>/progress/`, named `admin:<app>_<model>_progress`, that the bar polls until the job finishes, and a
`failure_reason` column saying why a failed job failed.
"""

from django.contrib import admin
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404
from django.template.defaultfilters import truncatechars
from django.template.loader import render_to_string
from django.urls import path, reverse


class JobProgressAdminMixin:
    def progress_state(self, job) -> dict:
        """The job's state in the config.progress.job_progress shape."""
        raise NotImplementedError

    def _progress_url_name(self) -> str:
        return f"{self.opts.app_label}_{self.opts.model_name}_progress"

    def get_urls(self):
        view = self.admin_site.admin_view(self.progress_view)
        return [path("<int:pk>/progress/", view, name=self._progress_url_name()), *super().get_urls()]

    @admin.display(description="Progress")
    def live_progress(self, job):
        poll_url = reverse(f"admin:{self._progress_url_name()}", args=[job.pk])
        return render_to_string("admin/includes/job_progress.html", {**self.progress_state(job), "poll_url": poll_url})

    @admin.display(description="Why it failed")
    def failure_reason(self, job):
        """The job's error in a list column (whole on the job's page), empty unless it failed."""
        if job.status != "failed" or not job.error:
            return self.get_empty_value_display()
        return truncatechars(job.error, 120)

    def progress_view(self, request, pk):
        job = get_object_or_404(self.model, pk=pk)
        if not self.has_view_permission(request, job):
            raise Http404
        return JsonResponse(self.progress_state(job))
