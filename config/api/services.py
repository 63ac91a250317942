from django.db import IntegrityError, transaction

from config.errors import DomainError

from .models import ApiClient
from .roles import Role


class ApiClientError(DomainError):
    code = "api_client_invalid"
    http_status = 400


@transaction.atomic
def api_client_create(*, name: str, role: str, store_codes=()) -> tuple[ApiClient, str]:
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
    return client, key
