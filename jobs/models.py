"""Admin imports run in the background: a file for a django-import-export resource, reviewed, then imported."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from coupons.models import JobRow


class ImportJob(JobRow):
    """One pass of an uploaded file through a model's import resource, in chunks of rows.

    A review (dry run) writes nothing and collects every row's errors; a clean review can be confirmed, which
    creates the import job that writes the rows (one transaction per chunk, with its counters). Both follow
    the job lifecycle in config.jobs.JOB_TRANSITIONS, with the fields every job row keeps (JobRow).
    """

    FINISHED = frozenset({JobRow.Status.SUCCEEDED, JobRow.Status.FAILED})

    model = models.ForeignKey("contenttypes.ContentType", on_delete=models.PROTECT, related_name="+")
    resource = models.CharField(max_length=200, help_text="The import resource class, by its dotted path.")
    input_format = models.CharField(max_length=200, help_text="The file format class, by its dotted path.")
    file = models.FileField(upload_to="admin_imports/", max_length=500)
    file_name = models.CharField(max_length=255, help_text="The file's name on the user's computer.")
    dry_run = models.BooleanField(default=True, help_text="A review: the rows are checked, nothing is written.")
    review = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="confirmed_import",
        help_text="The review this import was confirmed from.",
    )  # fmt: skip
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    total_rows = models.PositiveIntegerField(null=True, blank=True)
    processed_rows = models.PositiveIntegerField(default=0)
    new = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)
    errors = models.PositiveIntegerField(default=0, help_text="Rows with at least one error.")

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["heartbeat_at"], condition=Q(status="running"), name="jobs_importjob_running_idx")
        ]

    def __str__(self):
        kind = "Review" if self.dry_run else "Import"
        return f"{kind} {self.pk} of {self.file_name}"

    @property
    def is_finished(self) -> bool:
        return self.status in self.FINISHED


class ImportJobIssue(models.Model):
    """One problem with one row of an import job's file (or, row empty, with the file as a whole)."""

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="issues")
    row = models.PositiveIntegerField(null=True, blank=True, help_text="The data row, counted after the header.")
    field = models.CharField(max_length=200, blank=True)
    value = models.CharField(max_length=200, blank=True, help_text="The field's cell in the file, cut to 200.")
    message = models.TextField()

    class Meta:
        ordering = ["row", "id"]
        indexes = [models.Index(fields=["job", "row", "id"], name="jobs_importissue_job_row_idx")]

    def __str__(self):
        return f"Row {self.row}: {self.message}"
