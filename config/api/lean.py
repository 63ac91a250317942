"""A lean POST for the hottest endpoints: DRF's checks and answers without its per-request machinery.

A till's validate and redeem run hundreds of times a second. `LeanPostApiView` keeps a view an APIView
(so drf-spectacular documents its `post`, and OPTIONS or a wrong method go through DRF as usual), but a
POST with a JSON body, or none, skips DRF's Request wrapper, content negotiation and renderer:

- authentication, permission and throttle classes are the view's own (the API's token authentication
  and role permission), called on the Django request with the same outcomes (401 with
  `WWW-Authenticate`, 403);
- `post` gets the Django request, with `request.user` set to the client, reads its body with
  `request_data` (the API's JSON reader, `config.api.parsers.parse_json`; bad JSON is a 400) and
  answers with `LeanJsonResponse`;
- every exception goes through DRF's `handle_exception`, so errors stay the API's problem details;
  those responses are rendered with the JSON renderer, as DRF would.

A form or multipart body takes DRF's full path, so `post` must accept both requests (`request_data`
does). Input validation can reuse a serializer's field definitions with `validate_fields`.
"""

import json
from collections.abc import Mapping

from django.core.exceptions import RequestDataTooBig
from django.http import HttpResponse
from rest_framework import exceptions
from rest_framework.fields import SkipField, empty
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from .parsers import RequestTooLarge, parse_json

_renderer = JSONRenderer()


def takes_lean_path(request) -> bool:
    """A POST with a JSON body (what DRF's JSON parser takes) or none at all."""
    return request.method == "POST" and (
        request.content_type == "application/json" or not request.META.get("CONTENT_LENGTH")
    )


class LeanPostApiView(APIView):
    def dispatch(self, request, *args, **kwargs):
        if not takes_lean_path(request):
            return super().dispatch(request, *args, **kwargs)
        self.args, self.kwargs, self.request = args, kwargs, request
        self.headers = self.default_response_headers
        # What finalize_response and the exception handler read from a DRF request.
        request.accepted_renderer, request.accepted_media_type = _renderer, _renderer.media_type
        try:
            request.user = self._lean_authenticate(request)
            self._lean_check_permissions(request)
            self.check_throttles(request)
            response = self.post(request, *args, **kwargs)
        except Exception as exc:
            response = self.handle_exception(exc)
        return self.finalize_response(request, response, *args, **kwargs)

    # DRF's own versions of these two read its Request wrapper's state (`_authenticator`,
    # `authenticators`); these take the same decisions on the Django request.
    def _lean_authenticate(self, request):
        for authenticator in self.get_authenticators():
            found = self.lean_authenticate_with(authenticator, request)
            if found is not None:
                return found[0]
        return None

    def lean_authenticate_with(self, authenticator, request):
        """One authenticator's (client, auth) or None; a view that makes some of its checks in its own read
        calls a narrower method here."""
        return authenticator.authenticate(request)

    def _lean_check_permissions(self, request):
        for permission in self.get_permissions():
            if not permission.has_permission(request, self):
                if request.user is None:
                    raise exceptions.NotAuthenticated()
                raise exceptions.PermissionDenied(
                    detail=getattr(permission, "message", None), code=getattr(permission, "code", None)
                )

    def raise_uncaught_exception(self, exc):
        if isinstance(self.request, Request):
            super().raise_uncaught_exception(exc)
        raise exc


def request_data(request):
    """The request's body: DRF's parsed data on DRF's path, the decoded JSON (or {} when empty) on the lean one."""
    if isinstance(request, Request):
        return request.data
    try:
        body = request.body
    except RequestDataTooBig:
        raise RequestTooLarge() from None
    if not body:
        return {}
    return parse_json(body)


class LeanJsonResponse(HttpResponse):
    """A compact JSON answer that keeps its `data`, as DRF's Response does; the idempotency store keeps its
    bytes as they are (`is_lean_json`) instead of rendering `data` again."""

    is_lean_json = True

    def __init__(self, data, status=200, headers=None):
        content = json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
        super().__init__(content.encode(), status=status, headers=headers, content_type="application/json")
        self.data = data


def validate_fields(serializer_class, data, *, skip=()) -> tuple[dict, dict]:
    """Run the serializer's own field definitions over `data` without building the serializer.

    Returns (values, errors) keyed by field name, in declaration order, exactly as the serializer's
    fields would give them (required, null, blank, length, number and date checks and messages). Fields
    named in `skip` are left to the caller (related fields resolved some cheaper way).
    """
    if not isinstance(data, Mapping):
        message = serializer_class.default_error_messages["invalid"].format(datatype=type(data).__name__)
        raise exceptions.ValidationError({api_settings.NON_FIELD_ERRORS_KEY: [message]}, code="invalid")
    values, errors = {}, {}
    for name, field in serializer_class._declared_fields.items():
        if name in skip:
            continue
        try:
            values[name] = field.run_validation(data.get(name, empty))
        except SkipField:
            pass
        except exceptions.ValidationError as exc:
            errors[name] = exc.detail
    return values, errors
