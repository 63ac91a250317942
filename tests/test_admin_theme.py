"""The admin as one product: every screen on the project's unfold base, the sidebar by job, beat's internals out
of sight, and constraint errors shown as sentences."""

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission, User
from django.urls import reverse

from config.admin_base import ModelAdmin, StackedInline, TabularInline
from config.admin_navigation import SIDEBAR, sidebar_navigation
from config.constraint_sentences import CONSTRAINT_SENTENCES
from coupons.models import ExchangeRate

pytestmark = pytest.mark.django_db
MEMBER_SCREENS = {"members"}  # converted with the Member 360


def test_every_model_admin_is_on_the_project_base():
    outside = [
        f"{model._meta.label}: {type(model_admin).__name__}"
        for model, model_admin in admin.site._registry.items()
        if not isinstance(model_admin, ModelAdmin) and model._meta.app_label not in MEMBER_SCREENS
    ]
    assert outside == []


def test_every_inline_is_on_the_project_base():
    outside = [
        f"{model_admin}: {inline.__name__}"
        for model, model_admin in admin.site._registry.items()
        if model._meta.app_label not in MEMBER_SCREENS | {"django_celery_beat"}
        for inline in model_admin.inlines
        if not issubclass(inline, TabularInline | StackedInline)
    ]
    assert outside == []


def test_celery_beat_internals_are_out_of_sight(admin_client):
    registered = {
        model._meta.model_name for model in admin.site._registry if model._meta.app_label == "django_celery_beat"
    }
    assert registered == {"periodictask", "crontabschedule", "intervalschedule"}
    html = admin_client.get(reverse("admin:index")).content.decode()
    assert "Schedules" in html and "Clocked" not in html and "Solar" not in html


def test_sidebar_groups_by_job(rf, admin_user):
    request = rf.get("/admin/")
    request.user = admin_user
    groups = {group["title"]: [item["title"] for item in group["items"]] for group in sidebar_navigation(request)}
    assert list(groups) == ["Campaigns", "Members", "Operations", "Settings"]
    assert groups["Campaigns"][:3] == ["Offers", "Coupon series", "Coupons"]
    assert "Schedules" in groups["Operations"] and "Exchange rates" in groups["Settings"]
    for group in sidebar_navigation(request):
        for item in group["items"]:
            assert item["link"].startswith("/admin/")


def test_sidebar_leaves_out_missing_screens_and_those_the_user_may_not_view(rf):
    titles = [title for _, entries in SIDEBAR for title, _, _ in entries]
    assert "Checkouts" in titles  # listed, shown once the till's screens exist
    agent = User.objects.create_user("agent", is_staff=True)
    agent.user_permissions.add(Permission.objects.get(codename="view_offer"))
    request = rf.get("/admin/")
    request.user = User.objects.get(pk=agent.pk)
    assert [(group["title"], [item["title"] for item in group["items"]]) for group in sidebar_navigation(request)] == [
        ("Campaigns", ["Offers"])
    ]


def test_index_page_names_the_program_and_shows_the_sidebar(admin_client):
    html = admin_client.get(reverse("admin:index")).content.decode()
    assert "Offerdesk" in html and "Campaigns" in html and "Operations" in html
    assert reverse("admin:coupons_couponseries_changelist") in html


def test_constraint_errors_read_as_sentences(admin_client):
    page = admin_client.post(
        reverse("admin:coupons_exchangerate_add"), {"from_currency": "EUR", "to_currency": "USD", "rate": "0"}
    )
    html = page.content.decode()
    assert page.status_code == 200 and not ExchangeRate.objects.exists()
    assert "An exchange rate must be above zero." in html
    assert '<small class="machine-code">coupons_exchangerate_rate_positive</small>' in html
    assert "is violated" not in html


def test_every_constraint_of_the_project_has_a_sentence():
    from django.apps import apps

    ours = {"members", "offers", "rewards", "coupons", "exports", "webhooks", "till"}
    missing = {
        constraint.name
        for model in apps.get_models()
        if model._meta.app_label in ours
        for constraint in model._meta.constraints
        if constraint.name not in CONSTRAINT_SENTENCES
    }
    # bookkeeping constraints nobody can break from a screen
    assert missing <= {
        "offers_offerresponse_status_known",
        "rewards_certificatecodeevent_changes_status",
        "coupons_bulkissuechunk_job_number",
        "coupons_uploadseencode_once",
        "coupons_unknowncodeburst_unique",
        "coupons_unknowncodeburst_store",
        "exports_exportrun_status_valid",
        "exports_exportrun_rows_not_negative",
        "exports_exportrun_progress_not_negative",
        "exports_dailyfigure_one_per_scope",
        "exports_dailyfigure_count_not_negative",
        "exports_liabilityline_one_each",
        "exports_liabilityline_counts_not_negative",
    }
