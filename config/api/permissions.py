from rest_framework import exceptions
from rest_framework.permissions import BasePermission

from .roles import Role


class RolePermission(BasePermission):
    """Allow a client whose role the view lists for this action or method.

    A view declares `roles` as a set for every method, or a dict keyed by viewset action or HTTP
    method, with "*" as the fallback. A view that declares nothing allows nobody.
    """

    message = "Your client's role may not make this call."

    def has_permission(self, request, view):
        client = request.user
        if client is None or not getattr(client, "is_authenticated", False):
            return False
        if request.method.lower() not in view.http_method_names or not hasattr(view, request.method.lower()):
            return True  # let the view answer 405
        return getattr(client, "role", None) in roles_for(view, request)


def roles_for(view, request):
    declared = getattr(view, "roles", None)
    if declared is None:
        return frozenset()
    if not isinstance(declared, dict):
        return declared
    action = getattr(view, "action", None)
    for key in (action, request.method, "*"):
        if key in declared:
            return declared[key]
    return frozenset()


class StoreNotPermitted(exceptions.PermissionDenied):
    default_code = "store_not_permitted"
    default_detail = "This client may not act for that store."


def ensure_store_permitted(client, store) -> None:
    """A POS client acts only for its own stores (and the tills inside them)."""
    if getattr(client, "role", None) != Role.POS:
        return
    from members.selectors import org_entity_lineage_ids

    permitted = {entity.pk for entity in client.stores.all()}
    if store.pk in permitted:
        return  # the usual case at a till: no walk up the org tree
    if permitted.isdisjoint(org_entity_lineage_ids(store)):
        raise StoreNotPermitted()
