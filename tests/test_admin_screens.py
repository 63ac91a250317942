"""Every admin screen opens on the demo data: lists, search, add forms and one change page per model."""

import io

import pytest
from django.contrib import admin
from django.core.management import call_command
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_every_admin_screen_renders_on_the_demo_data(admin_client):
    call_command("seed_demo", stdout=io.StringIO())
    request = _superuser_request()
    failures = []
    for model, model_admin in admin.site._registry.items():
        opts = model._meta
        name = f"admin:{opts.app_label}_{opts.model_name}"
        pages = [reverse(f"{name}_changelist"), reverse(f"{name}_changelist") + "?q=M000001"]
        if model_admin.has_add_permission(request):
            pages.append(reverse(f"{name}_add"))
        first = model_admin.get_queryset(request).order_by("pk").first()
        if first is not None:
            pages.append(reverse(f"{name}_change", args=[first.pk]))
        for page in pages:
            status = admin_client.get(page).status_code
            if status != 200:
                failures.append((page, status))
    assert failures == []


def _superuser_request():
    from django.contrib.auth import get_user_model
    from django.test import RequestFactory

    request = RequestFactory().get("/admin/")
    request.user = get_user_model().objects.get(is_superuser=True)
    return request
