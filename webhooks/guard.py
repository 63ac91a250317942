"""Server-side request forgery guard: where a webhook may be sent (API_CONTRACT.md, "Outbound events").

Unless WEBHOOK_ALLOW_PRIVATE_URLS is set, a receiver must be `https` and every address its host resolves to
must be public: not loopback, private, link-local, reserved, multicast or unspecified (the cloud metadata
address 169.254.169.254 is link-local). Checked when an endpoint is saved and again before each batch of
deliveries, since what a name resolves to can change after it was accepted; the delivery then connects to the
address this check vetted (`url_check` returns it), never resolving the name again, so a name that answers a
public address to the check and a private one to the connection (DNS rebinding) reaches nothing private.
"""

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings

from .exceptions import WebhookEndpointError

URL_NOT_HTTPS = "url_not_https"
URL_NOT_PUBLIC = "url_not_public"
URL_UNRESOLVABLE = "url_unresolvable"
URL_MALFORMED = "url_malformed"


def url_check(url: str, *, resolve=socket.getaddrinfo) -> str | None:
    """Raise WebhookEndpointError when `url` may not receive webhooks; otherwise the vetted address to connect to
    (None when private addresses are allowed: the connection resolves the name itself)."""
    try:
        parts = urlsplit(url)
        host, port = parts.hostname, parts.port
    except ValueError as error:
        raise WebhookEndpointError("The address is not a valid URL.", reasons=[URL_MALFORMED]) from error
    if parts.scheme not in ("http", "https") or not host or parts.username or parts.password:
        raise WebhookEndpointError("The address must be an http(s) URL without user name or password.",
                                   reasons=[URL_MALFORMED])  # fmt: skip
    if settings.WEBHOOK_ALLOW_PRIVATE_URLS:
        return None
    if parts.scheme != "https":
        raise WebhookEndpointError("The address must use https.", reasons=[URL_NOT_HTTPS])
    try:
        # In the resolver's order (the order a connection would try them), without repeats.
        addresses = list(dict.fromkeys(info[4][0] for info in resolve(host, port or 443, type=socket.SOCK_STREAM)))
    except (OSError, UnicodeError) as error:
        raise WebhookEndpointError(f"The host {host} does not resolve.", reasons=[URL_UNRESOLVABLE]) from error
    for address in addresses:
        if not _is_public(address):
            raise WebhookEndpointError(f"The host {host} resolves to a private address ({address}).",
                                       reasons=[URL_NOT_PUBLIC])  # fmt: skip
    if not addresses:
        raise WebhookEndpointError(f"The host {host} does not resolve.", reasons=[URL_UNRESOLVABLE])
    return addresses[0]


def _is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_link_local or ip.is_loopback)
