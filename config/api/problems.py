"""Every API error as RFC 9457 problem details (`application/problem+json`)."""

import logging
import sys

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation, TooManyFieldsSent, TooManyFilesSent
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpResponse, JsonResponse
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.views import exception_handler

from config.errors import DomainError

logger = logging.getLogger(__name__)

PROBLEM_CONTENT_TYPE = "application/problem+json"

# The database is unreachable, went away mid-request, or refused the statement for a reason that passes
# (a deadlock, a serialisation failure, a statement timeout): worth retrying, not a bug in the request.
DATABASE_UNAVAILABLE = (OperationalError, InterfaceError)
RETRY_AFTER_SECONDS = 5


def problem_body(*, status_code, code, detail, title=None, reasons=(), errors=None, **extra):
    body = {
        "type": f"urn:offerdesk:problem:{code}",
        "title": title or _title_for(status_code),
        "status": status_code,
        "detail": detail,
        "code": code,
    }
    if reasons:
        body["reasons"] = list(reasons)
    if errors:
        body["errors"] = errors
    body.update(extra)
    return body


def _title_for(status_code):
    from http import HTTPStatus

    try:
        return HTTPStatus(status_code).phrase
    except ValueError:
        return "Error"


def problem_response(body, headers=None):
    return Response(body, status=body["status"], headers=headers, content_type=PROBLEM_CONTENT_TYPE)


def service_unavailable_body():
    detail = "The service cannot reach its database; retry after the time in Retry-After."
    return problem_body(status_code=503, code="service_unavailable", detail=detail)


def _log_database_unavailable(exc):
    logger.error("Database unavailable: %s", exc, exc_info=exc)


def invalid_fields_body(errors):
    return problem_body(status_code=400, code="invalid", title="Invalid input",
                        detail="The request has invalid fields; see `errors`.", errors=errors)  # fmt: skip


def problem_json_response(body):
    """A problem answer outside DRF's views (middleware, Django's error handlers)."""
    return JsonResponse(body, status=body["status"], content_type=PROBLEM_CONTENT_TYPE)


def malformed_request_body(exc):
    """What Django's request checks refuse: a body over DATA_UPLOAD_MAX_MEMORY_SIZE (413), too many fields (400)."""
    if isinstance(exc, RequestDataTooBig):
        return problem_body(status_code=413, code="request_too_large",
                            detail="The request body is larger than this API accepts.")  # fmt: skip
    if isinstance(exc, TooManyFieldsSent | TooManyFilesSent):
        return problem_body(status_code=400, code="too_many_fields", detail=str(exc))
    return problem_body(status_code=400, code="bad_request", detail="The request is malformed.")


def problem_exception_handler(exc, context):
    if isinstance(exc, DATABASE_UNAVAILABLE):
        _log_database_unavailable(exc)
        return problem_response(service_unavailable_body(), headers={"Retry-After": str(RETRY_AFTER_SECONDS)})
    if isinstance(exc, SuspiciousOperation):
        return problem_response(malformed_request_body(exc))
    if isinstance(exc, DomainError):
        return problem_response(
            problem_body(
                status_code=exc.http_status,
                code=exc.code,
                title=exc.title,
                detail=exc.message,
                reasons=exc.reasons,
                errors=exc.errors,
                **exc.extra,
            )
        )
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(as_serializer_error(exc))
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()

    response = exception_handler(exc, context)
    if response is None:
        return None

    if isinstance(exc, exceptions.ValidationError):
        body = invalid_fields_body(exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail})
    else:
        detail = exc.detail if isinstance(exc, exceptions.APIException) else str(exc)
        code = getattr(detail, "code", None) or getattr(exc, "default_code", "error")
        body = problem_body(status_code=response.status_code, code=code, detail=str(detail))
    return problem_response(body, headers={k: v for k, v in response.items() if k != "Content-Type"})


def _is_api_path(request):
    return request.path.startswith("/api/")


def api_aware_400(request, exception=None):
    if _is_api_path(request):
        return problem_json_response(malformed_request_body(exception))
    from django.views.defaults import bad_request

    return bad_request(request, exception)


def api_aware_404(request, exception=None):
    if _is_api_path(request):
        return problem_json_response(problem_body(status_code=404, code="not_found", detail="No such resource."))
    from django.views.defaults import page_not_found

    return page_not_found(request, exception)


def database_unavailable_response(request):
    """503 with Retry-After: problem details on the API, a plain page elsewhere (the admin)."""
    if _is_api_path(request):
        response = problem_json_response(service_unavailable_body())
    else:
        response = HttpResponse(
            "<!doctype html><title>Service unavailable</title><h1>Service unavailable</h1>"
            "<p>The back office cannot reach its database. Try again in a moment.</p>",
            status=503,
        )
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


class DatabaseUnavailableMiddleware:
    """Answers 503 instead of 500 when a view (the admin's or any other plain Django view) loses the database.

    DRF views answer the same through `problem_exception_handler`; `api_aware_500` covers errors raised
    outside a view (a middleware saving the session).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, DATABASE_UNAVAILABLE):
            _log_database_unavailable(exception)
            return database_unavailable_response(request)
        return None


def api_aware_500(request):
    if isinstance(sys.exception(), DATABASE_UNAVAILABLE):
        return database_unavailable_response(request)
    if _is_api_path(request):
        body = problem_body(status_code=500, code="server_error", detail="An unexpected error occurred.")
        return problem_json_response(body)
    from django.views.defaults import server_error

    return server_error(request)
