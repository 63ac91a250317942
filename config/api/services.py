from django.db import IntegrityError, transaction

from audit.models import AuditEvent
from audit.services import audit_created, audit_record
from audit.snapshots import snapshot
from config.actors import Actor
from config.errors import DomainError

from .models import ApiClient
from .roles import Role


class ApiClientError(DomainError):
    code = "api_client_invalid"
    http_status = 400


@transaction.atomic
def api_client_create(*, name: str, role: str, actor: Actor, store_codes=()) -> tuple[ApiClient, str]:
    """Create a client and return it with its token, which is not stored and cannot be shown again."""
    from members.models import OrgEntity

    if role not in Role.values:
        raise ApiClientError(f"Unknown role {role!r}; choose one of {', '.join(Role.values)}.")
    stores = list(OrgEntity.objects.filter(code__in=store_codes))
    unknown = sorted(set(store_codes) - {store.code for store in stores})
    if unknown:
        raise ApiClientError(f"Unknown store code(s): {', '.join(unknown)}.", code="unknown_store")
    if role == Role.POS and not stores:
        raise ApiClientError("A POS client needs at least one --store.", code="store_required")
    client = ApiClient(name=name, role=role)
    key = client.set_new_key()
    try:
        with transaction.atomic():
            client.save()
    except IntegrityError as exc:
        raise ApiClientError(f"An API client named {name!r} exists already.", code="duplicate_name") from exc
    client.stores.set(stores)
    audit_created(actor=actor, obj=client, after=api_client_audit_snapshot(client))
    return client, key


def api_client_audit_snapshot(client: ApiClient) -> dict:
    """What the audit trail shows of a client: never its token's hash."""
    return snapshot(client, exclude=SECRET_FIELDS)


SECRET_FIELDS = ("key_hash",)


@transaction.atomic
def api_client_token_reissue(*, client: ApiClient, actor: Actor) -> str:
    """A new token for the client (the old one stops working); returns it, to be shown once."""
    old_prefix = client.key_prefix
    key = client.set_new_key()
    client.save(update_fields=["key_hash", "key_prefix"])
    audit_record(
        actor=actor,
        action=AuditEvent.Action.TOKEN_REISSUE,
        obj=client,
        changes={"key_prefix": [old_prefix, client.key_prefix]},
        summary="The old token stopped working",
    )
    return key
