import pgtrigger
from django.db import models
from django.utils import timezone

from audit.triggers import UnlessOnly, append_only


class OfflineBatch(models.Model):
    """Redemptions one till made while it was offline, sent once it was back, with the answer it got.

    `batch_id` names the batch within its store; the same batch sent again is answered from `response_body`,
    changing nothing (`request_fingerprint` tells a repeat from another batch reusing the id).
    """

    class Source(models.TextChoices):
        API = "api", "Sent by the till"
        UPLOAD = "upload", "Uploaded in the admin"

    batch_id = models.CharField(max_length=100)
    store = models.ForeignKey("members.OrgEntity", on_delete=models.PROTECT, related_name="+")
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.API)
    total_rows = models.PositiveIntegerField(default=0)
    accepted_count = models.PositiveIntegerField(default=0)
    rejected_count = models.PositiveIntegerField(default=0)
    request_fingerprint = models.CharField(max_length=64)
    # null while the batch is being judged (the row is written first, so a second copy waits on its id)
    response_body = models.JSONField(null=True, blank=True)
    actor = models.CharField(max_length=100)
    channel = models.CharField(max_length=30)
    # an admin upload's file, judged in the background from there (empty for a batch the API sent)
    upload_file = models.FileField(upload_to="offline-batches/", blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        triggers = append_only(
            # the answer, once, when the batch has been judged
            allowed_update=UnlessOnly(
                move=pgtrigger.Q(old__response_body__isnull=True, new__response_body__isnull=False),
                changing=("response_body", "total_rows", "accepted_count", "rejected_count"),
            )
        )
        ordering = ["-created_at", "-id"]
        verbose_name = "offline batch"
        verbose_name_plural = "offline batches"
        constraints = [
            models.UniqueConstraint(fields=["batch_id", "store"], name="till_offlinebatch_one_id_per_store"),
        ]

    def __str__(self):
        return f"Offline batch {self.batch_id}"


class OfflineBatchChunk(models.Model):
    """The answers to one chunk of a batch's rows, written with the chunk's redemptions, in the same transaction.

    The chunks are the batch's progress too: a batch is judged in chunks, in the order its rows happened, and a
    chunk's answers commit with its writes, so the answered rows are always the first ones of that order and a
    batch interrupted midway goes on from the first row without an answer.
    """

    batch = models.ForeignKey("OfflineBatch", on_delete=models.PROTECT, related_name="chunks")
    position = models.PositiveIntegerField()  # where the chunk's first row is in the order the rows happened
    row_count = models.PositiveIntegerField()
    # [row index, code as sent, redemption id or null, reason codes space-separated ("" when accepted)] per row
    answers = models.JSONField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        triggers = append_only()
        verbose_name = "offline batch chunk"
        constraints = [
            models.UniqueConstraint(fields=["batch", "position"], name="till_offlinechunk_one_per_position"),
        ]

    def __str__(self):
        return f"Rows {self.position} to {self.position + self.row_count - 1} of {self.batch_id}"


class OfflineConflict(models.Model):
    """A code a till redeemed offline that had been redeemed elsewhere meanwhile: one of the two was a loss."""

    batch = models.ForeignKey(OfflineBatch, on_delete=models.PROTECT, related_name="conflicts")
    row_index = models.PositiveIntegerField()
    code = models.CharField(max_length=64, db_index=True)
    # No database foreign keys to coupons or redemptions: their tables are partitioned on PostgreSQL, where a
    # key cannot reference their id (docs/scaling.md, "Partitioning").
    coupon = models.ForeignKey(
        "coupons.Coupon", null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_constraint=False
    )
    member = models.ForeignKey("members.Member", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    offline_store = models.ForeignKey("members.OrgEntity", on_delete=models.PROTECT, related_name="+")
    offline_redeemed_at = models.DateTimeField()
    online_redemption = models.ForeignKey(
        "coupons.CouponRedemption",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_constraint=False,
    )
    online_store = models.ForeignKey(
        "members.OrgEntity", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    online_redeemed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        triggers = append_only()
        ordering = ["-created_at", "-id"]
        verbose_name = "offline conflict"
        indexes = [models.Index(fields=["-created_at"], name="till_offconflict_recent_idx")]

    def __str__(self):
        return f"Offline conflict on {self.code}"
