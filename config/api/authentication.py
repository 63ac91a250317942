import threading
import time

from django.conf import settings
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication

from .models import ApiClient, hash_token

# token hash -> (client, expires at); per process, read-only once stored
_cache: dict[str, tuple[ApiClient, float]] = {}
_cache_lock = threading.Lock()


def _cache_seconds() -> float:
    return float(getattr(settings, "API_CLIENT_CACHE_SECONDS", 0))


class ApiTokenAuthentication(TokenAuthentication):
    """`Authorization: Token <key>` against ApiClient; `request.user` is the client.

    With `API_CLIENT_CACHE_SECONDS` > 0 a process keeps each client (and its stores) that long, saving
    two queries per till request; a deactivated client or changed store list then takes effect within
    that many seconds. 0 (the default) reads the client on every request.
    """

    keyword = "Token"

    def authenticate_credentials(self, key):
        key_hash = hash_token(key)
        ttl = _cache_seconds()
        if ttl > 0:
            cached = _cache.get(key_hash)
            if cached is not None and cached[1] > time.monotonic():
                return cached[0], None
        client = ApiClient.objects.filter(key_hash=key_hash, is_active=True).prefetch_related("stores").first()
        if client is None:
            raise exceptions.AuthenticationFailed("Invalid or inactive token.")
        if ttl > 0:
            list(client.stores.all())  # evaluated once, so cached readers share the prefetched list
            with _cache_lock:
                _cache[key_hash] = (client, time.monotonic() + ttl)
        return client, None
