"""Token authentication for API clients, with failed attempts throttled per address.

Each failed token authentication (an unknown, inactive or malformed token) counts under the caller's
address for the minute (`config.api.attempts`). The `API_AUTH_FAILURES_PER_MINUTE`-th failure (default
20) still answers 401; from then until the minute ends, every request from that address that sends a
token answers 429 `too_many_failed_authentications` with Retry-After, a correct token included: were a
correct token let through, the 429 would only tell a guesser its guess was wrong, and guessing would go
on at full speed. A request without a token is neither counted nor blocked (it proves nothing).

The address is REMOTE_ADDR, unless REMOTE_ADDR is one of `TRUSTED_PROXIES` (addresses or networks): then
it is the right-most X-Forwarded-For entry that is not a trusted proxy, the one the outermost trusted
proxy saw; entries further left are whatever the client sent and are never believed.
"""

import ipaddress
import logging
import threading
import time
from functools import lru_cache

from django.conf import settings
from django.utils import timezone
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication

from . import attempts
from .models import ApiClient, hash_token

logger = logging.getLogger(__name__)

ADDRESS_PREFIX = "address:"

# token hash -> (client, expires at); per process, read-only once stored
_cache: dict[str, tuple[ApiClient, float]] = {}
_cache_lock = threading.Lock()


def _cache_seconds() -> float:
    return float(getattr(settings, "API_CLIENT_CACHE_SECONDS", 0))


class TooManyFailedAuthentications(exceptions.Throttled):
    default_code = "too_many_failed_authentications"
    default_detail = "Too many failed authentications from this address; wait before trying again."

    def __init__(self, wait):
        super().__init__(wait=wait, detail=self.default_detail, code=self.default_code)


class ApiTokenAuthentication(TokenAuthentication):
    """`Authorization: Token <key>` against ApiClient; `request.user` is the client.

    With `API_CLIENT_CACHE_SECONDS` > 0 a process keeps each client (and its stores) that long, saving
    two queries per till request; a deactivated client or changed store list then takes effect within
    that many seconds. 0 (the default) reads the client on every request.
    """

    keyword = "Token"

    def authenticate(self, request):
        return self._authenticate(request, check_address=True)

    def authenticate_counting_failures(self, request):
        """Authenticate without checking the address's block (for a caller that checks it in its own read)."""
        return self._authenticate(request, check_address=False)

    def _authenticate(self, request, *, check_address):
        now = timezone.now()
        # Read with the client when the client is read (no extra statement); a cached client needs its own read.
        self._address_check = (address_key(client_address(request)), now) if check_address else None
        self._address_blocked = None
        try:
            found = super().authenticate(request)
        except exceptions.AuthenticationFailed:
            authentication_failure_note(request)
            raise
        if found is not None and check_address:
            blocked = self._address_blocked
            if blocked is None:
                blocked = bool(attempts.keys_at_limit([self._address_check[0]], now=now))
            if blocked:
                raise TooManyFailedAuthentications(attempts.retry_after_seconds(now))
        return found

    def authenticate_credentials(self, key):
        key_hash = hash_token(key)
        ttl = _cache_seconds()
        if ttl > 0:
            cached = _cache.get(key_hash)
            if cached is not None and cached[1] > time.monotonic():
                return cached[0], None
        rows = ApiClient.objects.filter(key_hash=key_hash, is_active=True).prefetch_related("stores")
        if getattr(self, "_address_check", None):
            address, now = self._address_check
            rows = rows.annotate(address_blocked=attempts.any_at_limit([address], now=now))
        client = rows.first()
        if client is None:
            raise exceptions.AuthenticationFailed("Invalid or inactive token.")
        self._address_blocked = client.__dict__.pop("address_blocked", None)  # never kept on a cached client
        if ttl > 0:
            list(client.stores.all())  # evaluated once, so cached readers share the prefetched list
            with _cache_lock:
                _cache[key_hash] = (client, time.monotonic() + ttl)
        return client, None


def failures_limit() -> int:
    return int(settings.API_AUTH_FAILURES_PER_MINUTE)


def address_key(address: str) -> str:
    return f"{ADDRESS_PREFIX}{address}"


def authentication_failure_note(request) -> None:
    """Count a failed authentication for the request's address; 429 when the address is already blocked."""
    now = timezone.now()
    address = client_address(request)
    counted = attempts.attempt_count(limits={address_key(address): failures_limit()}, now=now)
    if counted.refused:
        raise TooManyFailedAuthentications(attempts.retry_after_seconds(now))
    if counted.reached:
        logger.warning("Token authentication blocked for %s: %d failures this minute", address, failures_limit())


def client_address(request) -> str:
    """The address a request came from, believing forwarding headers only from `TRUSTED_PROXIES`."""
    remote = request.META.get("REMOTE_ADDR", "") or ""
    proxies = _trusted_networks(tuple(getattr(settings, "TRUSTED_PROXIES", ())))
    if not proxies or not _is_trusted(remote, proxies):
        return remote
    forwarded = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
    for hop in reversed(forwarded):
        if not _is_trusted(hop, proxies):
            return hop[:64]
    return forwarded[0][:64] if forwarded else remote


@lru_cache(maxsize=8)
def _trusted_networks(entries: tuple[str, ...]) -> tuple:
    return tuple(ipaddress.ip_network(entry.strip(), strict=False) for entry in entries if entry.strip())


def _is_trusted(address: str, networks) -> bool:
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(parsed in network for network in networks)
