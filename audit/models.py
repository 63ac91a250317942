from django.db import models
from django.utils import timezone

from .triggers import append_only


class AuditEvent(models.Model):
    """One change to a set-up object, or a named act on it: who, when, through what, what changed.

    Append-only: no admin change or delete, and on PostgreSQL a trigger refuses UPDATE and DELETE.
    `changes` maps each changed field to [old, new] (JSON-safe: decimals, dates and times as text).
    """

    class Action(models.TextChoices):
        CREATE = "create", "Created"
        UPDATE = "update", "Changed"
        DELETE = "delete", "Deleted"
        REVOKE = "revoke", "Revoked"
        BULK_ISSUE = "bulk_issue", "Bulk issuance"
        UPLOAD = "upload", "Upload"
        TRANSFER = "transfer", "Transferred"
        POINTS_ADJUST = "points_adjust", "Points adjusted"
        TOKEN_REISSUE = "token_reissue", "New token issued"

    at = models.DateTimeField(default=timezone.now)
    actor = models.CharField(max_length=100)
    channel = models.CharField(max_length=30)
    action = models.CharField(max_length=20, choices=Action.choices)
    object_type = models.CharField(max_length=100, help_text="app_label.model, e.g. offers.offer")
    object_id = models.CharField(max_length=64, help_text="The object's primary key, as text")
    object_repr = models.CharField(max_length=200)
    changes = models.JSONField(default=dict, blank=True)
    summary = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = "audit event"
        indexes = [
            models.Index(fields=["object_type", "object_id", "at"], name="audit_event_object_idx"),
            models.Index(fields=["at"], name="audit_event_at_idx"),
        ]
        triggers = append_only()

    def __str__(self):
        return f"{self.get_action_display()} {self.object_repr} by {self.actor}"
