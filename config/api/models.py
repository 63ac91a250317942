import hashlib
import secrets

from django.db import models

from config.actors import Actor

from .roles import Role


def hash_token(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class ApiClient(models.Model):
    """A system that calls the API (a till integration, a member-care tool, a marketing tool).

    Only a hash of the token is stored; the token itself is shown once, when the client is created.
    """

    name = models.CharField(max_length=100, unique=True)
    role = models.CharField(max_length=20, choices=Role.choices)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    key_prefix = models.CharField(max_length=8, editable=False)
    stores = models.ManyToManyField("members.OrgEntity", blank=True, related_name="api_clients")
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    # What DRF and the permission classes ask of `request.user`.
    is_authenticated = True
    is_anonymous = False

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return f"{self.name} ({self.role})"

    def set_new_key(self) -> str:
        key = secrets.token_hex(20)
        self.key_hash = hash_token(key)
        self.key_prefix = key[:8]
        return key

    def as_actor(self) -> Actor:
        return Actor(name=self.name, channel=f"api:{self.role}")


class IdempotencyRecord(models.Model):
    """The first answer to a POST sent with an Idempotency-Key, replayed for repeats of it.

    Written once, with its answer, by one statement at the end of the work's transaction
    (`config.api.idempotency`); a row never exists without its answer.
    """

    # A till writes one of these with nearly every redemption, so each index and check is paid on the hot path. The
    # unique (client, key) index serves every lookup by client, so the reference has no index of its own; nor is it
    # a database foreign key, whose check at each insert locked the client's row (one WAL record a request on the
    # one row all of a client's requests share). Rows are written only for the authenticated client of the request,
    # and deleting a client still deletes its rows (Django's CASCADE). The purge finds old rows on a BRIN index of
    # `created_at` (PostgreSQL only, migration 0004): rows arrive in time order, and a BRIN entry costs next to nothing.
    client = models.ForeignKey(ApiClient, on_delete=models.CASCADE, related_name="idempotency_records",
                               db_index=False, db_constraint=False)  # fmt: skip
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64)
    response_status = models.PositiveSmallIntegerField(null=True)
    response_body = models.JSONField(null=True)
    response_content_type = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["client", "key"], name="api_idempotency_client_key_unique")]

    def __str__(self):
        return f"{self.key} ({self.response_status or 'in flight'})"


class AttemptWindow(models.Model):
    """Attempts counted under one key in one minute: unknown coupon codes, failed token authentications.

    The key names what is counted (`client:12`, `store:34`, `address:203.0.113.9`). The count moves only
    with one conditional upsert under the limit in force (`config.api.attempts`), so it never passes it.
    """

    key = models.CharField(max_length=80)
    window_start = models.DateTimeField(db_index=True)
    attempts = models.PositiveIntegerField(default=1)
    attempt_limit = models.PositiveIntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["key", "window_start"], name="api_attemptwindow_key_unique")]

    def __str__(self):
        return f"{self.key} at {self.window_start:%H:%M}: {self.attempts}/{self.attempt_limit}"
