"""The API's request guard, and browser middleware that token-authenticated API requests skip.

Sessions, CSRF, session authentication and messages serve the admin and other browser pages. A request
to the versioned API authenticates with a token (DRF sets `request.user` itself, and its views are CSRF
exempt), so for it these layers only cost time: about 0.15 ms of a till request's 1 to 2 ms of CPU. Each
class here is Django's own, skipped for API paths, so everything else (including the admin's checks that
they are installed) sees the usual middleware.
"""

from django.conf import settings
from django.contrib.auth import middleware as auth
from django.contrib.messages import middleware as messages
from django.contrib.sessions import middleware as sessions
from django.middleware import csrf
from django.urls import Resolver404, resolve

from config.api.problems import invalid_fields_body, problem_body, problem_json_response
from config.text import forbidden_character_message

API_PREFIX = "/api/v1/"


def is_api_request(request) -> bool:
    return request.path_info.startswith(API_PREFIX)


class ApiRequestGuardMiddleware:
    """Refuse, as problem details and before any other work, an API request that no view could answer.

    - a URL (path and query string) longer than `API_MAX_URL_LENGTH`: 414;
    - a NUL in the path (a lone surrogate cannot get there: Django re-escapes undecodable bytes): 400;
    - a NUL in the query string: 400 with `errors` naming the parameter;
    - a Content-Length that is not a number: 400; more than DATA_UPLOAD_MAX_MEMORY_SIZE for any body but a
      multipart one: 413, unless the view takes larger bodies (its `max_body_bytes`: an offline batch), and
      then past its own limit. Django itself only checks when a view reads `request.body`, and DRF's parsers
      read the stream without that check. Multipart bodies keep Django's limits: files go to disk, fields
      are counted against the same size (the API's exception handler answers 413 for those).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path_info.startswith("/api/"):
            refusal = _api_request_refusal(request)
            if refusal is not None:
                return problem_json_response(refusal)
        return self.get_response(request)


def _api_request_refusal(request):
    path, query = request.path_info, request.META.get("QUERY_STRING", "")
    if len(path) + len(query) > (limit := settings.API_MAX_URL_LENGTH):
        return problem_body(status_code=414, code="uri_too_long", detail=f"The URL may be at most {limit} characters.")
    if "\x00" in path:
        return problem_body(status_code=400, code="invalid_path", detail="The URL path contains a NUL character.")
    if "%00" in query or "\x00" in query:
        for name, values in request.GET.lists():
            for index, text in enumerate((name, *values)):
                message = forbidden_character_message(text)
                if message is not None:
                    return invalid_fields_body({name if index else "non_field_errors": [message]})
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = -1
    if length < 0:
        return problem_body(status_code=400, code="bad_request", detail="Content-Length is not a number of bytes.")
    if length > (limit := settings.DATA_UPLOAD_MAX_MEMORY_SIZE) and request.content_type != "multipart/form-data":
        limit = max(limit, _view_body_limit(path))
        if length > limit:
            return problem_body(status_code=413, code="request_too_large",
                                detail=f"The body may be at most {limit} bytes.")  # fmt: skip
    return None


def _view_body_limit(path: str) -> int:
    """The larger body a view takes (`max_body_bytes` on its class), 0 for none; asked only of a large body."""
    try:
        match = resolve(path)
    except Resolver404:
        return 0
    view_class = getattr(match.func, "view_class", None) or getattr(match.func, "cls", None)
    return getattr(view_class, "max_body_bytes", 0)


class SkippedForApiMixin:
    def __call__(self, request):
        if is_api_request(request):
            return self.get_response(request)
        return super().__call__(request)


class SessionMiddleware(SkippedForApiMixin, sessions.SessionMiddleware):
    pass


class CsrfViewMiddleware(SkippedForApiMixin, csrf.CsrfViewMiddleware):
    def process_view(self, request, callback, callback_args, callback_kwargs):
        if is_api_request(request):
            return None
        return super().process_view(request, callback, callback_args, callback_kwargs)


class AuthenticationMiddleware(SkippedForApiMixin, auth.AuthenticationMiddleware):
    pass


class MessageMiddleware(SkippedForApiMixin, messages.MessageMiddleware):
    pass
