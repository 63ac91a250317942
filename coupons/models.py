import secrets

import pgtrigger
from django.db import models
from django.db.models import Q
from django.utils import timezone

from audit.triggers import UnlessOnly, append_only
from config import ranges


def new_code_key() -> str:
    return secrets.token_hex(16)


class CouponSeries(models.Model):
    """A coupon series under an offer (seed 003): how codes are made, issued, expire and are redeemed.

    Settings the rules read are typed columns, so issuance and redemption filter on them in SQL.
    """

    class IssuedBy(models.TextChoices):
        PLATFORM = "platform", "Through the platform"
        THIRD_PARTY = "third_party", "Through a third party"

    class CodeMode(models.TextChoices):
        UNIQUE = "unique", "Automatically create unique codes"
        COMMON = "common", "Give a common code to all coupons"
        UPLOAD = "upload", "Upload existing coupon codes"
        RANDOMIZED_COMMON = "randomized_common", "Generate randomized common codes"

    class Charset(models.TextChoices):
        NUMERIC = "numeric", "Numeric"
        ALPHANUMERIC = "alphanumeric", "Alphanumeric"

    class DiscountType(models.TextChoices):
        FIXED = "fixed", "Fixed amount"
        PERCENTAGE = "percentage", "Percentage"

    class ExpiryMode(models.TextChoices):
        WITH_OFFER = "with_offer", "Along with the offer"
        DAYS_FROM_ISSUE = "days_from_issue", "Days from issual"
        MONTH_ENDS_FROM_ISSUE = "month_ends_from_issue", "Month ends from issual"

    class OnRematch(models.TextChoices):
        RESEND_EXISTING = "resend_existing", "Send the existing valid coupon"
        DO_NOT_SEND = "do_not_send", "Do not send any coupon"

    class OnReturn(models.TextChoices):
        FORFEIT = "forfeit", "Keep it redeemed (the coupon is used up)"
        REINSTATE = "reinstate", "Reverse the redemption so the coupon can be used again"

    class StartMode(models.TextChoices):
        ON_ISSUE = "on_issue", "Right after issual"
        DAYS_AFTER_ISSUE = "days_after_issue", "Days after issual"
        FROM_DATE = "from_date", "From a specific date"

    offer = models.ForeignKey("offers.Offer", on_delete=models.PROTECT, related_name="coupon_series")
    name = models.CharField(max_length=200)
    issued_by = models.CharField(max_length=12, choices=IssuedBy.choices, default=IssuedBy.PLATFORM)

    # Coupon details: code generation
    code_mode = models.CharField(max_length=20, choices=CodeMode.choices, default=CodeMode.UNIQUE)
    code_length = models.PositiveSmallIntegerField(null=True, blank=True)
    code_charset = models.CharField(max_length=12, choices=Charset.choices, blank=True)
    common_code = models.CharField(max_length=64, blank=True)
    code_prefix = models.CharField(
        max_length=10, null=True, blank=True, help_text="Fixed first half of a randomized common series' codes."
    )
    code_key = models.CharField(max_length=64, default=new_code_key, editable=False)
    next_code_index = models.BigIntegerField(default=0, editable=False)

    # Discount
    discount_type = models.CharField(max_length=10, choices=DiscountType.choices, default=DiscountType.FIXED)
    discount_value = models.DecimalField(
        max_digits=12, decimal_places=2, default=0, validators=ranges.MONEY.validators()
    )
    discount_currency = models.CharField(max_length=3, blank=True)

    # Expiry
    expiry_mode = models.CharField(max_length=24, choices=ExpiryMode.choices, default=ExpiryMode.WITH_OFFER)
    expiry_days = models.PositiveIntegerField(null=True, blank=True, validators=ranges.DAYS.validators())
    expiry_months = models.PositiveIntegerField(null=True, blank=True, validators=ranges.MONTHS.validators())

    specific_members_only = models.BooleanField(default=False)
    allowed_members = models.ManyToManyField(
        "members.Member", through="SeriesAllowedMember", blank=True, related_name="+"
    )

    # Issual
    max_per_member = models.PositiveIntegerField(null=True, blank=True, validators=ranges.POSITIVE_COUNT.validators())
    min_gap_days = models.PositiveIntegerField(null=True, blank=True, validators=ranges.DAYS.validators())
    on_rematch = models.CharField(max_length=16, choices=OnRematch.choices, default=OnRematch.DO_NOT_SEND)
    series_limit = models.PositiveIntegerField(null=True, blank=True, validators=ranges.COUNT.validators())
    limit_notify_remaining = models.PositiveIntegerField(null=True, blank=True, validators=ranges.COUNT.validators())
    limit_notify_emails = models.JSONField(default=list, blank=True)
    limit_notified_at = models.DateTimeField(null=True, blank=True, editable=False)
    exclude_recipients_of = models.ManyToManyField("self", symmetrical=False, blank=True, related_name="+")
    exclude_window_days = models.PositiveIntegerField(null=True, blank=True, validators=ranges.DAYS.validators())
    resend_sms_template = models.TextField(blank=True)

    # Redemption (read by the redemption rules)
    allow_anyone = models.BooleanField(default=False)
    redemption_start_mode = models.CharField(max_length=20, choices=StartMode.choices, default=StartMode.ON_ISSUE)
    redemption_start_days = models.PositiveIntegerField(null=True, blank=True, validators=ranges.DAYS.validators())
    redemption_start_date = models.DateField(null=True, blank=True)
    multi_use = models.BooleanField(default=False)
    redemption_max_per_member = models.PositiveIntegerField(
        null=True, blank=True, validators=ranges.POSITIVE_COUNT.validators()
    )
    redemption_stores_type = models.CharField(max_length=10, blank=True)
    redemption_stores = models.ManyToManyField("members.OrgEntity", blank=True, related_name="coupon_series_redeemable")
    min_bill = models.DecimalField(
        max_digits=12, decimal_places=2, null=True, blank=True, validators=ranges.MONEY.validators()
    )
    max_bill = models.DecimalField(
        max_digits=12, decimal_places=2, null=True, blank=True, validators=ranges.MONEY.validators()
    )
    days_of_week = models.JSONField(
        null=True, blank=True, help_text="0 = Monday … 6 = Sunday", validators=[ranges.DAY_OF_WEEK.list_validator()]
    )
    days_of_month = models.JSONField(null=True, blank=True, validators=[ranges.DAY_OF_MONTH.list_validator()])
    hours = models.JSONField(null=True, blank=True, validators=[ranges.HOUR.list_validator()])
    redemption_min_gap_days = models.PositiveIntegerField(null=True, blank=True, validators=ranges.DAYS.validators())
    redemption_series_limit = models.PositiveIntegerField(null=True, blank=True, validators=ranges.COUNT.validators())
    # Basket pricing (the till's two-phase checkout): which lines a coupon may discount (null: the whole
    # basket), how coupons of different series combine, and what a return of the discounted lines does.
    redemption_skus = models.JSONField(null=True, blank=True, help_text="SKUs the coupon may discount; empty: all")
    stacking_exclusive = models.BooleanField(default=False, help_text="When it applies, no other coupon applies")
    stacking_priority = models.IntegerField(default=0, validators=ranges.PRIORITY.validators())
    on_return = models.CharField(max_length=10, choices=OnReturn.choices, default=OnReturn.FORFEIT)
    new_members_registered_from = models.DateField(null=True, blank=True)
    new_members_registered_to = models.DateField(null=True, blank=True)
    new_members_max_transactions = models.PositiveIntegerField(
        null=True, blank=True, validators=ranges.COUNT.validators()
    )

    # Counters kept with F() by the services, in the transaction that changes the coupons.
    issued_count = models.PositiveBigIntegerField(default=0, editable=False)
    redeemed_count = models.PositiveBigIntegerField(default=0, editable=False)
    code_count = models.PositiveBigIntegerField(
        default=0, editable=False, help_text="Codes uploaded into an upload series (its capacity)."
    )

    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "coupon series"
        constraints = [
            models.UniqueConstraint(fields=["code_prefix"], name="coupons_couponseries_prefix_unique"),
            models.CheckConstraint(
                condition=~Q(code_mode="unique") | Q(code_length__gte=4, code_length__lte=16),
                name="coupons_couponseries_unique_length",
            ),
            models.CheckConstraint(
                condition=~Q(code_mode="common") | ~Q(common_code=""), name="coupons_couponseries_common_code_set"
            ),
            models.CheckConstraint(
                condition=Q(min_bill__isnull=True) | Q(max_bill__isnull=True) | Q(max_bill__gte=models.F("min_bill")),
                name="coupons_couponseries_bill_range",
            ),
        ]

    def __str__(self):
        return self.name

    @property
    def is_third_party(self) -> bool:
        return self.issued_by == self.IssuedBy.THIRD_PARTY


class SeriesAllowedMember(models.Model):
    """A member on a specific-members-only series' list."""

    series = models.ForeignKey(CouponSeries, on_delete=models.CASCADE, related_name="allowed_rows")
    member = models.ForeignKey("members.Member", on_delete=models.CASCADE, related_name="+")
    added_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["series", "member"], name="coupons_seriesallowedmember_unique"),
        ]

    def __str__(self):
        return f"{self.member_id} on {self.series_id}"


class Reminder(models.Model):
    class Channel(models.TextChoices):
        SMS = "sms", "SMS"
        EMAIL = "email", "Email"

    series = models.ForeignKey(CouponSeries, on_delete=models.CASCADE, related_name="reminders")
    days_before_expiry = models.PositiveIntegerField(validators=ranges.DAYS.validators())
    channel = models.CharField(max_length=5, choices=Channel.choices)
    time = models.TimeField()

    class Meta:
        ordering = ["series", "-days_before_expiry", "time"]

    def __str__(self):
        return f"{self.days_before_expiry} days before expiry by {self.channel} at {self.time:%H:%M}"


class Coupon(models.Model):
    class Status(models.TextChoices):
        UNISSUED = "unissued", "Unissued"
        ISSUED = "issued", "Issued"
        REDEEMED = "redeemed", "Redeemed"
        EXPIRED = "expired", "Expired"
        REVOKED = "revoked", "Revoked"

    # Every index is paid for on each of the millions of inserts of a bulk issuance, and again on each
    # coupon an expiry sweep moves (status is in the expiry index's predicate, so that update is never
    # HOT). So one btree serves the member lookups, (member, series, issued_at): a member's coupons, and
    # a member's coupons of one series, which is what every issual rule asks. Series-wide scans (the
    # admin's series filter, revoking a whole series) use a BRIN index on series_id (PostgreSQL only,
    # migration 0006): a series' coupons are written together, and a BRIN entry costs next to nothing.
    # For the same reason the two references are not database foreign keys: PostgreSQL checks a foreign
    # key with a trigger per inserted row, which cost 40% of a million-coupon issuance. Coupons are
    # written only by the coupons services, which read the series (locked) and the members in the same
    # transaction, and Django's PROTECT still refuses to delete a series or member that has coupons.
    series = models.ForeignKey(
        CouponSeries, on_delete=models.PROTECT, related_name="coupons", db_index=False, db_constraint=False
    )
    code = models.CharField(max_length=64)
    # A common code is shared by every member of its series: one row per member, same code.
    is_common = models.BooleanField(default=False)
    member = models.ForeignKey(
        "members.Member",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ISSUED)
    issued_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    redeemable_from = models.DateTimeField(null=True, blank=True)
    is_reversed = models.BooleanField(default=False)
    last_status_change_on = models.DateTimeField(default=timezone.now)
    created_at = models.DateTimeField(default=timezone.now)
    # A till's checkout holds the coupon between the scan and the payment (till.checkouts): until `held_until`
    # no other checkout, validation or redemption may use it. Not a status: an expired hold simply stops
    # counting, and the sweep clears it. No index: holds are found from the checkout's hold rows, by coupon id.
    held_by_checkout = models.BigIntegerField(null=True, blank=True)
    held_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["code"], condition=Q(is_common=False), name="coupons_coupon_code_unique"),
            models.UniqueConstraint(
                fields=["code", "member"], condition=Q(is_common=True), name="coupons_coupon_common_once_per_member"
            ),
            models.CheckConstraint(
                condition=Q(status="unissued") | Q(member__isnull=False) | Q(status="revoked"),
                name="coupons_coupon_issued_has_member",
            ),
        ]
        indexes = [
            models.Index(fields=["member", "series", "issued_at"], name="coupons_member_series_idx"),
        ]

    def __str__(self):
        return self.code


class CouponEvent(models.Model):
    """One row per status change of a coupon (and per issue), with who did it."""

    # Not a database foreign key: PostgreSQL checks one with a trigger per inserted event, which at the
    # commit of an expiry-sweep batch cost a fifth of the sweep. Events are written only by the coupon
    # services, for a coupon they hold locked, and Django's CASCADE still deletes them with their coupon.
    coupon = models.ForeignKey(Coupon, on_delete=models.CASCADE, related_name="events", db_constraint=False)
    old_status = models.CharField(max_length=10, blank=True)
    new_status = models.CharField(max_length=10)
    actor = models.CharField(max_length=100)
    channel = models.CharField(max_length=30)
    reason = models.CharField(max_length=255, blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        triggers = append_only()
        ordering = ["-at", "-id"]

    def __str__(self):
        words = dict(Coupon.Status.choices)
        old, new = words.get(self.old_status, "—"), words.get(self.new_status, self.new_status)
        return f"Coupon {self.coupon_id}: {old} → {new}"


class JobRow(models.Model):
    """What every coupon job row keeps: its status (config.jobs.JOB_TRANSITIONS), why it failed, how often a worker
    started it, its last sign of life, who started it and when it ran."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    error = models.TextField(blank=True)
    attempts = models.PositiveIntegerField(default=0, help_text="Times a worker started it (more after a restart).")
    heartbeat_at = models.DateTimeField(
        null=True, blank=True, help_text="Last sign of life from its worker: set when it starts and after each chunk."
    )
    actor = models.CharField(max_length=100)
    channel = models.CharField(max_length=30)
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True


class Upload(JobRow):
    """A CSV of members to issue to, or of existing codes, processed in the background."""

    class Kind(models.TextChoices):
        MEMBERS = "members", "Members"
        CODES = "codes", "Existing codes"

    series = models.ForeignKey(CouponSeries, on_delete=models.CASCADE, related_name="uploads")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    file = models.FileField(upload_to="coupon_uploads/")
    total_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    succeeded = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    error_report = models.FileField(upload_to="coupon_upload_reports/", blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["heartbeat_at"], condition=Q(status="running"), name="coupons_upload_running_idx")
        ]

    def __str__(self):
        return f"Upload {self.pk} ({self.kind}) for {self.series}"

    @property
    def progress_percent(self) -> int:
        if not self.total_rows:
            return 100 if self.status in (self.Status.SUCCEEDED, self.Status.FAILED) else 0
        return min(100, int(100 * self.processed_rows / self.total_rows))


class BulkIssueJob(models.Model):
    """Issuance to every member of a segment (or of the series' own list), in committed chunks.

    The job's members are the source's members when it starts, split into BulkIssueChunk ranges of
    member ids; a chunk is marked done in the same transaction as its coupons, so a retried or resumed
    job redoes exactly the chunks that did not commit.
    """

    class Source(models.TextChoices):
        SEGMENT = "segment", "Segment"
        ALLOWED_LIST = "allowed_list", "The series' uploaded member list"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    series = models.ForeignKey(CouponSeries, on_delete=models.CASCADE, related_name="bulk_jobs")
    source = models.CharField(max_length=14, choices=Source.choices)
    segment = models.ForeignKey("members.Segment", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    chunk_size = models.PositiveIntegerField(default=50_000)
    chunks_in_parallel = models.BooleanField(
        default=False, help_text="Chunks run on several connections at once (their codes were reserved up front)."
    )
    issued = models.PositiveBigIntegerField(default=0)
    skipped = models.PositiveBigIntegerField(default=0)
    chunks_done = models.PositiveIntegerField(default=0)
    total_members = models.PositiveBigIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    attempts = models.PositiveIntegerField(default=0, help_text="Times a worker started it (more after a restart).")
    heartbeat_at = models.DateTimeField(
        null=True, blank=True, help_text="Last sign of life from its worker: set when it starts and after each chunk."
    )
    actor = models.CharField(max_length=100)
    channel = models.CharField(max_length=30)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    FINISHED = frozenset({Status.SUCCEEDED, Status.FAILED})

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(source="segment") | Q(segment__isnull=False), name="coupons_bulkissuejob_segment_set"
            ),
        ]
        indexes = [
            models.Index(fields=["heartbeat_at"], condition=Q(status="running"), name="coupons_bulkjob_running_idx")
        ]

    def __str__(self):
        return f"Bulk issue {self.pk} for {self.series}"

    @property
    def members_done(self) -> int:
        """Members handled so far: each was either issued a coupon or skipped."""
        return self.issued + self.skipped

    @property
    def is_finished(self) -> bool:
        return self.status in self.FINISHED

    @property
    def progress_percent(self) -> int | None:
        """None while the total is unknown; capped at 100 because members may join the segment mid-run."""
        if self.total_members is None:
            return None
        if not self.total_members:
            return 100 if self.is_finished else 0
        return min(100, 100 * self.members_done // self.total_members)


class BulkIssueChunk(models.Model):
    """One range of a bulk job's members, `after_member_id` < id <= `through_member_id`.

    `code_start` is set when the job reserved the chunk's code positions up front (chunks then run on
    several connections at once, and a redone chunk makes the same codes); empty, the chunk takes its
    positions from the series when it runs.
    """

    job = models.ForeignKey(BulkIssueJob, on_delete=models.CASCADE, related_name="chunks")
    number = models.PositiveIntegerField()
    after_member_id = models.BigIntegerField()
    through_member_id = models.BigIntegerField()
    members = models.PositiveIntegerField()
    code_start = models.BigIntegerField(null=True, blank=True)
    done = models.BooleanField(default=False)
    issued = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["job", "number"]
        constraints = [models.UniqueConstraint(fields=["job", "number"], name="coupons_bulkissuechunk_job_number")]

    def __str__(self):
        return f"Chunk {self.number} of bulk issue {self.job_id}"


class UploadIssue(models.Model):
    """One problem with one row of an upload: the lines of its "Download issues" report."""

    upload = models.ForeignKey(Upload, on_delete=models.CASCADE, related_name="issues")
    row = models.PositiveIntegerField()
    identifier = models.CharField(max_length=255, blank=True)
    code = models.CharField(max_length=40)
    message = models.CharField(max_length=255)

    class Meta:
        ordering = ["upload", "row", "id"]

    def __str__(self):
        return f"row {self.row}: {self.code}"


class SeriesRevokeJob(JobRow):
    """A revoke of a series' coupons (the admin's "Revoke coupons…"), run by a worker in committed batches.

    Each batch commits with `revoked` and `after_coupon_id`, so a resumed job goes on after the last batch.
    """

    series = models.ForeignKey(CouponSeries, on_delete=models.CASCADE, related_name="revoke_jobs")
    mode = models.CharField(max_length=20)
    member_ids = models.JSONField(default=list, blank=True)
    total_coupons = models.PositiveIntegerField(default=0, help_text="Coupons the revoke would touch when it started.")
    revoked = models.PositiveIntegerField(default=0)
    after_coupon_id = models.BigIntegerField(default=0, help_text="The last coupon id a committed batch went through.")

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["heartbeat_at"], condition=Q(status="running"), name="coupons_revokejob_running_idx")
        ]

    def __str__(self):
        return f"Revoke {self.pk} of {self.series}"

    @property
    def progress_percent(self) -> int:
        if not self.total_coupons:
            return 100 if self.status in (self.Status.SUCCEEDED, self.Status.FAILED) else 0
        return min(100, int(100 * self.revoked / self.total_coupons))


class UploadEventsPending(models.Model):
    """Coupons a committed chunk of an upload issued (ids after `after_id` up to `through_id`, issued at `at`) whose
    `issued` events and `coupon.issued` outbox events are still to be written.

    The chunk writes this row in its own transaction; the upload's events connection then writes the events
    beside the next chunk and deletes the row in the same transaction, so every coupon gets its events exactly
    once, whichever worker writes them (a resumed upload writes what a lost worker left)."""

    upload = models.ForeignKey(Upload, on_delete=models.CASCADE, related_name="+")
    after_id = models.BigIntegerField()
    through_id = models.BigIntegerField()
    at = models.DateTimeField()

    def __str__(self):
        return f"Upload {self.upload_id}: events of coupons {self.after_id + 1} to {self.through_id}"


class UploadSeenCode(models.Model):
    """A code a codes upload has read that is not in the coupon table (its row failed or resent a coupon).

    A code named twice in one file is a duplicate the second time; codes the file wrote are found in the
    coupon table itself, and these rows keep the others for the chunks that come after.
    """

    upload = models.ForeignKey(Upload, on_delete=models.CASCADE, related_name="+")
    code = models.CharField(max_length=64)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["upload", "code"], name="coupons_uploadseencode_once")]

    def __str__(self):
        return self.code


class CouponRedemption(models.Model):
    """One redemption of a coupon at a till; a reversal keeps the row and marks it reversed."""

    # Not database foreign keys: the redemption services are the only writers, and each insert's four deferred
    # checks took 1.6 s of a 100,000-row offline batch's commit (docs/scaling.md); PROTECT still refuses the
    # deletes of referenced rows. The coupon's reads use the (coupon, member, redeemed_at) index.
    coupon = models.ForeignKey(Coupon, on_delete=models.PROTECT, related_name="redemptions", db_constraint=False,
                               db_index=False)  # fmt: skip
    series = models.ForeignKey(CouponSeries, on_delete=models.PROTECT, related_name="redemptions",
                               db_constraint=False)  # fmt: skip
    member = models.ForeignKey("members.Member", on_delete=models.PROTECT, related_name="+", db_constraint=False)
    store = models.ForeignKey("members.OrgEntity", on_delete=models.PROTECT, related_name="+", db_constraint=False)
    bill_amount = models.DecimalField(max_digits=12, decimal_places=2)
    discount_amount = models.DecimalField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3)
    exchange_rate = models.DecimalField(max_digits=18, decimal_places=8, null=True, blank=True)
    transaction_id = models.CharField(max_length=100, blank=True)
    # {line_ref: discount as a decimal string} when the redemption priced a basket's lines (a checkout);
    # null for a whole-bill redemption. Returns read it to know which lines a coupon discounted.
    line_discounts = models.JSONField(null=True, blank=True)
    redeemed_at = models.DateTimeField(default=timezone.now)
    is_reversed = models.BooleanField(default=False)
    reversed_at = models.DateTimeField(null=True, blank=True)
    actor = models.CharField(max_length=100)
    channel = models.CharField(max_length=30)

    class Meta:
        triggers = append_only(
            # a reversal, once: the row is kept and marked reversed
            allowed_update=UnlessOnly(
                move=pgtrigger.Q(old__is_reversed=False, new__is_reversed=True, old__reversed_at__isnull=True,
                                 new__reversed_at__isnull=False),
                changing=("is_reversed", "reversed_at"),
            )
        )  # fmt: skip
        ordering = ["-redeemed_at", "-id"]
        indexes = [models.Index(fields=["coupon", "member", "redeemed_at"], name="coupons_redemption_member_idx")]

    def __str__(self):
        return f"Redemption {self.pk} of {self.coupon_id}"


class ExchangeRate(models.Model):
    """How much one unit of `from_currency` is worth in `to_currency`, kept by the marketer."""

    from_currency = models.CharField(max_length=3)
    to_currency = models.CharField(max_length=3)
    rate = models.DecimalField(max_digits=18, decimal_places=8)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["from_currency", "to_currency"]
        constraints = [
            models.UniqueConstraint(fields=["from_currency", "to_currency"], name="coupons_exchangerate_pair_unique"),
            models.CheckConstraint(condition=Q(rate__gt=0), name="coupons_exchangerate_rate_positive"),
        ]

    def __str__(self):
        return f"1 {self.from_currency} = {self.rate} {self.to_currency}"


class UnknownCodeBurst(models.Model):
    """A minute in which a POS client, or a store, reached the unknown-code limit: possible code guessing.

    `client` is the client that reached its own limit (scope client) or the store's (scope store);
    `store` is the store reached, or for a client's burst the store it was trying when one was named.
    """

    class Scope(models.TextChoices):
        CLIENT = "client", "POS client"
        STORE = "store", "Store"

    scope = models.CharField(max_length=10, choices=Scope.choices, default=Scope.CLIENT)
    client = models.ForeignKey("api.ApiClient", on_delete=models.CASCADE, related_name="+")
    store = models.ForeignKey("members.OrgEntity", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    window_start = models.DateTimeField()
    limit = models.PositiveIntegerField()
    first_blocked_at = models.DateTimeField(default=timezone.now)
    last_code_tried = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-window_start", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["client", "window_start"], condition=Q(scope="client"), name="coupons_unknowncodeburst_unique"
            ),
            models.UniqueConstraint(
                fields=["store", "window_start"], condition=Q(scope="store"), name="coupons_unknowncodeburst_store"
            ),
        ]

    def __str__(self):
        whom = self.store if self.scope == self.Scope.STORE else self.client
        return f"{whom} at {self.window_start:%Y-%m-%d %H:%M}"


class CouponResend(models.Model):
    """A coupon sent again to its member (member care), with the message as rendered."""

    coupon = models.ForeignKey(Coupon, on_delete=models.CASCADE, related_name="resends")
    channel = models.CharField(max_length=10, default="sms")
    recipient = models.CharField(max_length=255, blank=True)
    message = models.TextField()
    actor = models.CharField(max_length=100)
    actor_channel = models.CharField(max_length=30)
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-sent_at", "-id"]

    def __str__(self):
        return f"Resend of {self.coupon_id} to {self.recipient or '-'}"


class ReminderDelivery(models.Model):
    """One expiry reminder for one coupon: claimed once (unique pair) before anything is sent.

    The unique (coupon, reminder) pair is the at-most-once guarantee: a run inserts the claim, commits,
    and only then sends; another run (or a redelivered task) finds the claim and sends nothing.
    """

    class Status(models.TextChoices):
        CLAIMED = "claimed", "Claimed"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        SKIPPED = "skipped", "Skipped"

    reminder = models.ForeignKey(Reminder, on_delete=models.CASCADE, related_name="deliveries")
    # No database foreign key, for the reason given on Coupon.series; deliveries go with their coupon.
    coupon = models.ForeignKey(Coupon, on_delete=models.CASCADE, related_name="+", db_constraint=False)
    channel = models.CharField(max_length=5, choices=Reminder.Channel.choices)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.CLAIMED)
    claim_token = models.UUIDField(editable=False)
    recipient = models.CharField(max_length=254, blank=True)
    body = models.TextField(blank=True)
    error = models.TextField(blank=True)
    claimed_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-claimed_at", "-id"]
        verbose_name_plural = "reminder deliveries"
        constraints = [
            models.UniqueConstraint(fields=["coupon", "reminder"], name="coupons_reminderdelivery_once"),
        ]
        indexes = [models.Index(fields=["claim_token"], name="coupons_reminderdelivery_claim")]

    def __str__(self):
        return f"Reminder {self.reminder_id} for coupon {self.coupon_id}: {self.status}"
