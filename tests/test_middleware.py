"""Browser middleware stays on for browser pages and is skipped for the token API."""

import pytest
from django.http import HttpResponse
from django.test import Client, RequestFactory

from config.middleware import AuthenticationMiddleware, CsrfViewMiddleware, MessageMiddleware, SessionMiddleware


def through(path):
    seen = {}

    def view(request):
        seen.update(session=hasattr(request, "session"), user=hasattr(request, "user"))
        return HttpResponse()

    request = RequestFactory().get(path)
    chain = SessionMiddleware(AuthenticationMiddleware(MessageMiddleware(view)))
    chain(request)
    return seen


def test_the_api_skips_sessions_and_session_authentication():
    assert through("/api/v1/coupons/redeem") == {"session": False, "user": False}
    assert through("/admin/") == {"session": True, "user": True}


def test_csrf_view_checks_are_skipped_only_for_the_api():
    factory = RequestFactory()
    middleware = CsrfViewMiddleware(lambda request: HttpResponse())

    def guarded(request):
        return HttpResponse()

    assert middleware.process_view(factory.post("/api/v1/coupons/redeem"), guarded, (), {}) is None
    refused = middleware.process_view(factory.post("/admin/login/"), guarded, (), {})
    assert refused is not None and refused.status_code == 403


@pytest.mark.django_db
def test_the_admin_login_still_refuses_a_post_without_its_csrf_token():
    response = Client(enforce_csrf_checks=True).post("/admin/login/", {"username": "x", "password": "y"})
    assert response.status_code == 403
