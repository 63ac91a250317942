"""One delivery over HTTP: the body, its Standard Webhooks signature, and what the receiver answered."""

import http.client
import json
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

from django.core.serializers.json import DjangoJSONEncoder
from standardwebhooks.webhooks import Webhook

from .models import Event

USER_AGENT = "Offerdesk-Webhooks/1"
ERROR_LENGTH = 300
MAX_ANSWER_BYTES = 64 * 1024  # what is read of an answer; the status code is all that counts


@dataclass(frozen=True)
class Answer:
    succeeded: bool
    response_code: int | None
    duration_ms: int
    error: str = ""


def event_body(event: Event) -> str:
    """`{id, type, created_at, data}`, compact: the exact text that is signed and sent."""
    payload = {"id": event.public_id, "type": event.type, "created_at": event.created_at.isoformat(),
               "data": event.data}  # fmt: skip
    return json.dumps(payload, separators=(",", ":"), cls=DjangoJSONEncoder)


def signed_headers(*, signer: Webhook, event: Event, body: str, now: datetime | None = None) -> dict:
    now = now or datetime.now(tz=UTC)
    return {
        "webhook-id": event.public_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": signer.sign(msg_id=event.public_id, timestamp=now, data=body),
        "content-type": "application/json",
        "user-agent": USER_AGENT,
    }


def event_post(*, url: str, signer: Webhook, event: Event, timeout: float, address: str | None = None) -> Answer:
    """POST the event once. A 2xx answer is a success; anything else, a timeout or a refused connection is not.
    Redirects are not followed: a receiver could send the request on to an address the guard would refuse.
    With `address` (the one the guard vetted) the socket goes there; the Host header, TLS server name and
    certificate check still use the URL's host."""
    body = event_body(event)
    headers = signed_headers(signer=signer, event=event, body=body)
    parts = urlsplit(url)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    started = time.monotonic()
    for reused in (True, False):
        connection, was_open = _connection(parts, timeout, address)
        try:
            connection.request("POST", target, body=body.encode(), headers=headers)
            response = connection.getresponse()
            if response.read(MAX_ANSWER_BYTES + 1) and not response.isclosed():
                connection.close()  # a long answer is not read to its end; the next POST opens a new connection
            break
        except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError) as error:
            connection.close()
            _forget(parts, address)
            if reused and was_open:
                continue  # the receiver closed a kept-alive connection before reading this request: once more
            return Answer(False, None, _ms_since(started), _error_text(error))
        except (OSError, http.client.HTTPException) as error:
            connection.close()
            _forget(parts, address)
            return Answer(False, None, _ms_since(started), _error_text(error))
    code = response.status
    succeeded = 200 <= code < 300
    error = "" if succeeded else f"HTTP {code} {response.reason or ''}".strip()[:ERROR_LENGTH]
    return Answer(succeeded, code, _ms_since(started), error)


# One kept-alive connection per receiver and sending thread (the standard library's http.client: the delivery
# needs nothing a larger client adds, and a connection pool would only hide which socket a timeout hit).
_local = threading.local()


def _connection(parts, timeout: float, address: str | None):
    connections = _local.__dict__.setdefault("connections", {})
    key = (parts.scheme, parts.hostname, parts.port, address)
    connection = connections.get(key)
    if connection is not None:
        connection.timeout = timeout
        return connection, connection.sock is not None
    if parts.scheme == "https":
        connection = http.client.HTTPSConnection(parts.hostname, parts.port, timeout=timeout,
                                                 context=ssl.create_default_context())  # fmt: skip
    else:
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    if address is not None:
        # http.client opens its socket through this hook (and again on each reconnect); everything else it
        # does with the host name (Host header, SNI, certificate verification) is left as it is.
        connection._create_connection = lambda target, *args, **kwargs: socket.create_connection(
            (address, target[1]), *args, **kwargs
        )
    connections[key] = connection
    return connection, False


def _forget(parts, address: str | None) -> None:
    _local.__dict__.get("connections", {}).pop((parts.scheme, parts.hostname, parts.port, address), None)


def _error_text(error: Exception) -> str:
    kind = "Timeout" if isinstance(error, TimeoutError) else type(error).__name__
    return f"{kind}: {error}"[:ERROR_LENGTH]


def _ms_since(started: float) -> int:
    return max(0, round((time.monotonic() - started) * 1000))
