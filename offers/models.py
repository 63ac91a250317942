from django.db import models
from django.db.models import Q
from django.utils import timezone

from audit.triggers import append_only
from config import ranges


class Offer(models.Model):
    """An offer as the marketer sets it up (seed 001). Components hang off it in their own models."""

    class FulfillmentFlow(models.TextChoices):
        STANDARD = "standard", "Standard"
        SHIPPING = "shipping", "Shipping (processing → shipping → completed)"

    external_id = models.CharField(max_length=64, unique=True)
    name = models.CharField(max_length=200)
    category = models.CharField(max_length=100, blank=True, db_index=True)
    publish_at = models.DateTimeField(null=True, blank=True)
    expire_at = models.DateTimeField(null=True, blank=True)
    usage_start = models.DateTimeField(null=True, blank=True, help_text="Both usage dates empty: Always.")
    usage_end = models.DateTimeField(null=True, blank=True)
    requires_activation = models.BooleanField(default=False)
    allow_multiple_responses = models.BooleanField(default=False)
    fulfillment_flow = models.CharField(
        max_length=10, choices=FulfillmentFlow.choices, default=FulfillmentFlow.STANDARD
    )
    discontinued_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(publish_at__isnull=True)
                | Q(expire_at__isnull=True)
                | Q(expire_at__gt=models.F("publish_at")),
                name="offers_offer_expire_after_publish",
            ),
            models.CheckConstraint(
                condition=Q(usage_start__isnull=True)
                | Q(usage_end__isnull=True)
                | Q(usage_end__gt=models.F("usage_start")),
                name="offers_offer_usage_end_after_start",
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.external_id})"

    @property
    def usage_is_always(self) -> bool:
        return self.usage_start is None and self.usage_end is None

    # The components as `offers.selectors.offer_queryset()` fetched them (into plain lists: Django's prefetch
    # into related managers built a manager and a filtered queryset per offer, most of a page's time), or
    # read now for an offer fetched otherwise.
    @property
    def audience_rows(self) -> list:
        return self._component_rows("audiences")

    @property
    def limit_rows(self) -> list:
        return self._component_rows("limits")

    @property
    def marketing_content_rows(self) -> list:
        return self._component_rows("marketing_contents")

    def _component_rows(self, name: str) -> list:
        fetched = self.__dict__.get(f"_{name}_rows")
        return fetched if fetched is not None else list(getattr(self, name).all())


class EarningMechanism(models.Model):
    """The behaviour an offer rewards and the award for it (one per offer)."""

    class Behavior(models.TextChoices):
        PURCHASE_PRODUCT = "purchase_product", "Purchase a product"
        SPEND = "spend", "Spend an amount"

    class Award(models.TextChoices):
        POINTS = "points", "Fixed points"
        POINTS_PER_UNIT = "points_per_unit", "Points per unit (item or whole currency unit)"

    offer = models.OneToOneField(Offer, on_delete=models.CASCADE, related_name="earning_mechanism")
    behavior_type = models.CharField(max_length=20, choices=Behavior.choices)
    sku = models.CharField(max_length=64, blank=True)
    min_quantity = models.PositiveIntegerField(null=True, blank=True, validators=ranges.POSITIVE_COUNT.validators())
    min_amount = models.DecimalField(
        max_digits=12, decimal_places=2, null=True, blank=True, validators=ranges.MONEY.validators()
    )
    award_type = models.CharField(max_length=20, choices=Award.choices)
    points = models.PositiveIntegerField(null=True, blank=True, validators=ranges.AWARD_POINTS.validators())
    points_per_unit = models.PositiveIntegerField(null=True, blank=True, validators=ranges.AWARD_POINTS.validators())

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=~Q(behavior_type="purchase_product") | ~Q(sku=""),
                name="offers_earningmechanism_product_has_sku",
            ),
            models.CheckConstraint(
                condition=~Q(award_type="points") | Q(points__gt=0),
                name="offers_earningmechanism_points_positive",
            ),
            models.CheckConstraint(
                condition=~Q(award_type="points_per_unit") | Q(points_per_unit__gt=0),
                name="offers_earningmechanism_points_per_unit_positive",
            ),
        ]

    def __str__(self):
        return f"{self.get_behavior_type_display()} → {self.get_award_type_display()}"


class Audience(models.Model):
    """Who the offer targets: an age range (inclusive) or a required segment. Every audience must match."""

    class Type(models.TextChoices):
        AGE = "age", "Age range"
        SEGMENT = "segment", "Required segment"

    offer = models.ForeignKey(Offer, on_delete=models.CASCADE, related_name="audiences")
    type = models.CharField(max_length=10, choices=Type.choices)
    min_age = models.PositiveSmallIntegerField(null=True, blank=True, validators=ranges.AGE.validators())
    max_age = models.PositiveSmallIntegerField(null=True, blank=True, validators=ranges.AGE.validators())
    segment = models.ForeignKey("members.Segment", null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(type="segment") | Q(segment__isnull=False), name="offers_audience_segment_set"
            ),
            models.CheckConstraint(
                condition=~Q(type="age") | Q(min_age__isnull=False) | Q(max_age__isnull=False),
                name="offers_audience_age_bound_set",
            ),
            models.CheckConstraint(
                condition=Q(min_age__isnull=True) | Q(max_age__isnull=True) | Q(max_age__gte=models.F("min_age")),
                name="offers_audience_age_range_ordered",
            ),
        ]

    def __str__(self):
        if self.type == self.Type.SEGMENT:
            return f"segment {self.segment_id}"
        low = "" if self.min_age is None else self.min_age
        high = "" if self.max_age is None else self.max_age
        return f"age {low}-{high}"


class OfferLimit(models.Model):
    """A cap on fulfillments or activations, for all members together (global) or for each member.

    `used_count` is the running total for a global limit, moved only with a conditional UPDATE
    (`used_count < max_count`) so concurrent awards or activations can never overshoot it.
    Per-member limits are checked under the member's row lock against the member's own rows.
    """

    class Scope(models.TextChoices):
        GLOBAL = "global", "Global"
        MEMBER = "member", "Per member"

    class Kind(models.TextChoices):
        FULFILLMENT = "fulfillment", "Fulfillment"
        ACTIVATION = "activation", "Activation"

    offer = models.ForeignKey(Offer, on_delete=models.CASCADE, related_name="limits")
    scope = models.CharField(max_length=10, choices=Scope.choices)
    kind = models.CharField(max_length=12, choices=Kind.choices)
    max_count = models.PositiveIntegerField(validators=ranges.COUNT.validators())
    used_count = models.PositiveIntegerField(default=0, editable=False)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["offer", "scope", "kind"], name="offers_offerlimit_one_per_scope_kind"),
        ]

    def __str__(self):
        return f"{self.scope} {self.kind} ≤ {self.max_count}"


class MarketingContent(models.Model):
    offer = models.ForeignKey(Offer, on_delete=models.CASCADE, related_name="marketing_contents")
    locale = models.CharField(max_length=16)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    image_url = models.URLField(max_length=500, blank=True)

    class Meta:
        ordering = ["locale"]
        constraints = [
            models.UniqueConstraint(fields=["offer", "locale"], name="offers_marketingcontent_one_per_locale"),
        ]

    def __str__(self):
        return f"{self.locale}: {self.title}"


class Activation(models.Model):
    """A member's opt-in to an offer that requires activation; at most one per member and offer."""

    offer = models.ForeignKey(Offer, on_delete=models.PROTECT, related_name="activations")
    member = models.ForeignKey("members.Member", on_delete=models.PROTECT, related_name="offer_activations")
    activated_at = models.DateTimeField(default=timezone.now)
    actor = models.CharField(max_length=100)
    channel = models.CharField(max_length=30)

    class Meta:
        ordering = ["-activated_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["offer", "member"], name="offers_activation_one_per_member"),
        ]
        indexes = [models.Index(fields=["member", "offer"])]

    def __str__(self):
        return f"{self.member_id} activated {self.offer_id}"


class Transaction(models.Model):
    """A purchase the POS recorded, kept with the answer it got so a repeat returns the same body.

    A transaction id names a purchase within its store (the receipt number a till prints): another store may
    use the same id for its own purchase. `request_fingerprint` tells a till's repeat of this purchase from
    another purchase reusing the id.
    """

    transaction_id = models.CharField(max_length=100)
    member = models.ForeignKey("members.Member", on_delete=models.PROTECT, related_name="offer_transactions")
    store = models.ForeignKey("members.OrgEntity", on_delete=models.PROTECT, related_name="+")
    occurred_at = models.DateTimeField()
    total_amount = models.DecimalField(max_digits=12, decimal_places=2, validators=ranges.MONEY.validators())
    items = models.JSONField(default=list)
    response_body = models.JSONField(null=True, blank=True)
    # sha256 of the purchase as the till stated it; blank on rows recorded before it was kept
    request_fingerprint = models.CharField(max_length=64, blank=True, default="")
    actor = models.CharField(max_length=100)
    channel = models.CharField(max_length=30)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # transaction_id first, so the index also serves a search by the id alone
            models.UniqueConstraint(fields=["transaction_id", "store"], name="offers_transaction_one_id_per_store"),
        ]
        indexes = [models.Index(fields=["member", "-occurred_at"])]

    def __str__(self):
        return self.transaction_id


class Fulfillment(models.Model):
    """One award: the member engaged with the offer in one transaction and earned its award."""

    offer = models.ForeignKey(Offer, on_delete=models.PROTECT, related_name="fulfillments")
    member = models.ForeignKey("members.Member", on_delete=models.PROTECT, related_name="offer_fulfillments")
    transaction = models.ForeignKey(Transaction, on_delete=models.PROTECT, related_name="fulfillments")
    points = models.PositiveBigIntegerField()
    occurred_at = models.DateTimeField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["transaction", "offer"], name="offers_fulfillment_one_per_transaction"),
        ]
        indexes = [models.Index(fields=["member", "offer"])]

    def __str__(self):
        return f"{self.member_id} fulfilled {self.offer_id} (+{self.points})"


class OfferEvent(models.Model):
    """Audit of set-up changes to an offer (created, updated, discontinued)."""

    class Kind(models.TextChoices):
        CREATED = "created", "Created"
        UPDATED = "updated", "Updated"
        DISCONTINUED = "discontinued", "Discontinued"

    offer = models.ForeignKey(Offer, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    actor = models.CharField(max_length=100)
    channel = models.CharField(max_length=30)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        triggers = append_only()
        ordering = ["-at", "-id"]

    def __str__(self):
        return f"{self.kind} by {self.actor}"


class OfferResponse(models.Model):
    """A member's claim on an offer (seed 000): what the POS sees as "this member may use this offer".

    It keeps the offer's details as they were when it was created (`offer_snapshot`), and copies the
    few of them that queries filter on (opt-in, usage period) into columns. `one_open_only` copies the
    offer's "does not allow multiple responses" so the database itself can refuse a second open
    response; the claim service checks the same rule first, under the member's row lock.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        CLIPPED = "clipped", "Clipped"
        PROCESSING = "processing", "Processing"
        SHIPPING = "shipping", "Shipping"
        COMPLETED = "completed", "Completed"
        CANCELED = "canceled", "Canceled"
        EXPIRED = "expired", "Expired"

    class Source(models.TextChoices):
        CLAIM = "claim", "Claimed by the member"
        ACTIVATION = "activation", "Offer activation"
        AUTOMATIC = "automatic", "Automatic assignment"
        REWARD = "reward", "Reward"

    OPEN_STATUSES = ("pending", "clipped", "processing", "shipping")

    member = models.ForeignKey("members.Member", on_delete=models.PROTECT, related_name="offer_responses")
    offer = models.ForeignKey(Offer, on_delete=models.PROTECT, related_name="responses")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    source = models.CharField(max_length=12, choices=Source.choices, default=Source.CLAIM)
    offer_snapshot = models.JSONField(default=dict)
    requires_activation = models.BooleanField(default=False)
    one_open_only = models.BooleanField(default=True)
    usage_start = models.DateTimeField(null=True, blank=True)
    usage_end = models.DateTimeField(null=True, blank=True)
    certificate_code = models.CharField(max_length=64, blank=True, default="")
    expires_at = models.DateTimeField(null=True, blank=True)
    status_changed_at = models.DateTimeField(default=timezone.now)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["member", "offer"],
                condition=Q(one_open_only=True, status__in=["pending", "clipped", "processing", "shipping"]),
                name="offers_offerresponse_one_open_per_member",
            ),
            models.CheckConstraint(
                condition=Q(
                    status__in=["pending", "clipped", "processing", "shipping", "completed", "canceled", "expired"]
                ),
                name="offers_offerresponse_status_known",
            ),
        ]
        indexes = [
            models.Index(fields=["member", "status"]),
            models.Index(fields=["offer", "status"]),
            models.Index(fields=["certificate_code"]),
            models.Index(fields=["-created_at", "-id"], name="offers_resp_created_idx"),
            # the expiry sweep reads only open responses by expiry date
            models.Index(
                fields=["expires_at", "id"],
                condition=Q(status__in=["pending", "clipped", "processing", "shipping"]),
                name="offers_resp_open_expiry_idx",
            ),
        ]

    def __str__(self):
        return f"Response {self.pk} ({self.status})"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES


class OfferResponseEvent(models.Model):
    """One change of an offer response's status: when, from, to, who and through which channel."""

    response = models.ForeignKey(OfferResponse, on_delete=models.CASCADE, related_name="events")
    from_status = models.CharField(max_length=12, blank=True)
    to_status = models.CharField(max_length=12)
    actor = models.CharField(max_length=100)
    channel = models.CharField(max_length=30)
    reason = models.CharField(max_length=255, blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        triggers = append_only()
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["response", "at"])]

    def __str__(self):
        return f"{self.from_status or '∅'} → {self.to_status}"


class OfferRulesVersion(models.Model):
    """One row whose `version` changes, in the same transaction, with every change to what decides an award:
    an offer, its earning mechanism, its audiences, its limits' definitions (not their running totals).

    Database triggers change it (migration 0007), so no write path can forget to: the admin, imports,
    services and factories alike. Each process keeps the offers' rules in memory
    (`offers.rules_index`) and reloads them when the version it reads differs from the one it loaded.
    The value is random, not a counter, so a rolled-back change can never bring back a version whose
    rules a process loaded inside that transaction.
    """

    version = models.BigIntegerField(default=0)

    def __str__(self):
        return f"offer rules version {self.version}"
