from django.db import models
from django.db.models import Q
from django.utils import timezone

from audit.triggers import append_only


class ExportDefinition(models.Model):
    """What to export (a registered dataset, its filters and columns), when, and where to."""

    class Format(models.TextChoices):
        CSV = "csv", "CSV"

    name = models.CharField(max_length=200)
    dataset = models.CharField(max_length=64)
    filters = models.JSONField(default=dict, blank=True)
    columns = models.JSONField(default=list, help_text="Column names, in file order.")
    format = models.CharField(max_length=10, choices=Format.choices, default=Format.CSV)
    schedule = models.CharField(
        max_length=100, blank=True, default="", help_text="Cron expression (minute hour day month weekday), or empty."
    )
    destination = models.CharField(
        max_length=200, default="exports", help_text="Folder (path prefix) within the default file storage."
    )
    active = models.BooleanField(default=True)
    # Kept in step with `schedule` and `active` by the services (django-celery-beat's own row).
    periodic_task = models.OneToOneField(
        "django_celery_beat.PeriodicTask", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(format__in=["csv"]), name="exports_exportdefinition_format_valid"),
            models.CheckConstraint(condition=~Q(dataset=""), name="exports_exportdefinition_dataset_not_empty"),
        ]

    def __str__(self):
        return self.name


class ExportRun(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    FINISHED = frozenset({Status.SUCCEEDED, Status.FAILED})

    definition = models.ForeignKey(ExportDefinition, on_delete=models.CASCADE, related_name="runs")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    rows = models.BigIntegerField(null=True, blank=True)
    file = models.FileField(max_length=500, blank=True)
    error = models.TextField(blank=True)
    progress_done = models.BigIntegerField(default=0)
    progress_total = models.BigIntegerField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0, help_text="Times a worker started it (more after a restart).")
    heartbeat_at = models.DateTimeField(
        null=True, blank=True, help_text="Last sign of life from its worker: set when it starts and after each chunk."
    )
    actor = models.CharField(max_length=100)
    channel = models.CharField(max_length=30)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    duration = models.DurationField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["definition", "-created_at"]),
            models.Index(fields=["heartbeat_at"], condition=Q(status="running"), name="exports_exportrun_running_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["queued", "running", "succeeded", "failed"]),
                name="exports_exportrun_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(rows__gte=0) | Q(rows__isnull=True), name="exports_exportrun_rows_not_negative"
            ),
            models.CheckConstraint(condition=Q(progress_done__gte=0), name="exports_exportrun_progress_not_negative"),
        ]

    def __str__(self):
        return f"Run {self.pk} of {self.definition_id} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in self.FINISHED


class ExportRunEvent(models.Model):
    """One status change of a run: who moved it, from what, to what, and why."""

    run = models.ForeignKey(ExportRun, on_delete=models.CASCADE, related_name="events")
    old_status = models.CharField(max_length=10, blank=True)
    new_status = models.CharField(max_length=10)
    actor = models.CharField(max_length=100)
    channel = models.CharField(max_length=30)
    reason = models.CharField(max_length=500, blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        triggers = append_only()
        ordering = ["at", "id"]

    def __str__(self):
        return f"{self.old_status or '∅'} → {self.new_status}"


from exports.dashboard.models import DailyFigure  # noqa: E402, F401  (the dashboard's rollup lives in its package)
from exports.reports.models import LiabilityClose, LiabilityCloseLine  # noqa: E402, F401  (the report's closes)
