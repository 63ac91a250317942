"""The admin side of the audit trail: History pages, the Audit log list, append-only screens, refused deletes."""

import datetime

import pytest
from django.contrib import admin
from django.contrib.messages import get_messages
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from audit.selectors import audit_events_for
from config.actors import Actor
from config.api.models import ApiClient
from exports.models import ExportDefinition, ExportRun
from members.models import Member, PointsEntry
from members.services import member_update, points_adjust
from offers import services as offer_services
from offers.models import OfferEvent
from rewards.models import CertificateCodeEvent, Reward, RewardRedemption
from tests.exports.factories import ExportDefinitionFactory
from tests.members.factories import MemberFactory
from tests.rewards.factories import CertificateCodeFactory, RewardFactory

pytestmark = pytest.mark.django_db

CARE = Actor(name="carl", channel="api:member_care")


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def _management(prefix, total=0, initial=0):
    return {f"{prefix}-TOTAL_FORMS": str(total), f"{prefix}-INITIAL_FORMS": str(initial),
            f"{prefix}-MIN_NUM_FORMS": "0", f"{prefix}-MAX_NUM_FORMS": "1000"}  # fmt: skip


def test_offer_limit_changed_in_admin_is_recorded_and_listed_on_its_history_page(admin_client, admin_user):
    offer = offer_services.offer_create(
        actor=CARE, external_id="ADM-9", name="Milk", limits=[{"scope": "global", "kind": "activation",
                                                                "max_count": 100}]
    )  # fmt: skip
    limit = offer.limits.get()
    data = {
        "external_id": "ADM-9",
        "name": "Milk",
        "fulfillment_flow": "standard",
        **_management("earning_mechanism"),
        **_management("audiences"),
        **_management("limits", total=1, initial=1),
        "limits-0-id": str(limit.pk),
        "limits-0-offer": str(offer.pk),
        "limits-0-scope": "global",
        "limits-0-kind": "activation",
        "limits-0-max_count": "250",
        **_management("marketing_contents"),
    }

    response = admin_client.post(reverse("admin:offers_offer_change", args=[offer.pk]), data)

    assert response.status_code == 302, response.context["errors"] if response.context else response
    update = audit_events_for(offer).get(action="update")
    assert (update.actor, update.channel) == (admin_user.username, "admin")
    assert update.changes == {"limits[global activation].max_count": [100, 250]}
    history = admin_client.get(reverse("admin:offers_offer_history", args=[offer.pk])).content.decode()
    assert "limits[global activation].max count: 100 → 250" in history
    assert "Created" in history and "API (member care)" in history


def test_offer_discontinued_shows_on_its_history_page(admin_client):
    offer = offer_services.offer_create(actor=CARE, external_id="ADM-10", name="Bread")
    offer_services.offer_discontinue(offer=offer, actor=CARE)

    history = admin_client.get(reverse("admin:offers_offer_history", args=[offer.pk])).content.decode()

    assert "Discontinued" in history


def test_reward_changed_and_deleted_in_admin_is_recorded(admin_client):
    reward = RewardFactory(
        name="Cinema", cost_points=500, created_at=datetime.datetime(2026, 1, 5, 10, tzinfo=datetime.UTC)
    )
    change = reverse("admin:rewards_reward_change", args=[reward.pk])
    created = timezone.localtime(reward.created_at)
    form = {"external_id": reward.external_id, "name": "Cinema night", "type": reward.type, "cost_points": "500",
            "active": "on", "created_at_0": created.date().isoformat(),
            "created_at_1": created.time().isoformat()}  # fmt: skip

    assert admin_client.post(change, form).status_code == 302
    admin_client.post(reverse("admin:rewards_reward_delete", args=[reward.pk]), {"post": "yes"})

    update, deleted = AuditEvent.objects.filter(object_type="rewards.reward", object_id=str(reward.pk)).order_by("id")
    assert update.changes == {"name": ["Cinema", "Cinema night"]}
    assert (deleted.action, deleted.changes["name"]) == ("delete", ["Cinema night", None])
    assert not Reward.objects.filter(pk=reward.pk).exists()


def test_api_client_added_in_admin_is_recorded_without_its_token_hash(admin_client):
    response = admin_client.post(reverse("admin:api_apiclient_add"), {"name": "desk", "role": "marketer",
                                                                      "is_active": "on"})  # fmt: skip
    assert response.status_code == 302
    client = ApiClient.objects.get(name="desk")

    admin_client.post(reverse("admin:api_apiclient_changelist"), {"action": "rotate_key",
                                                                 "_selected_action": [client.pk]})  # fmt: skip

    created, reissued = audit_events_for(client).order_by("id")
    assert created.changes["role"] == [None, "marketer"] and "key_hash" not in created.changes
    assert reissued.action == "token_reissue"


def test_member_with_points_history_is_not_deleted_from_the_admin(admin_client):
    member = MemberFactory()
    points_adjust(member=member, points=10, reason="welcome", actor=CARE)
    url = reverse("admin:members_member_delete", args=[member.pk])

    shown = admin_client.get(url)
    posted = admin_client.post(url, {"post": "yes"})

    for response in (shown, posted):
        assert response.status_code == 302
        assert response.url == reverse("admin:members_member_change", args=[member.pk])
    assert any("cannot be deleted" in text and "points entries" in text for text in messages_of(posted))
    assert Member.objects.filter(pk=member.pk).exists()
    assert PointsEntry.objects.filter(member=member).count() == 1


def test_bulk_delete_of_members_with_history_deletes_none(admin_client):
    kept, bare = MemberFactory(), MemberFactory()
    points_adjust(member=kept, points=10, reason="welcome", actor=CARE)

    response = admin_client.post(
        reverse("admin:members_member_changelist"),
        {"action": "delete_selected", "_selected_action": [kept.pk, bare.pk], "post": "yes"},
    )

    assert any("cannot be deleted" in text for text in messages_of(response))
    assert Member.objects.filter(pk__in=[kept.pk, bare.pk]).count() == 2


def test_member_without_history_is_deleted_and_the_delete_recorded(admin_client):
    member = MemberFactory(first_name="Zoe")

    admin_client.post(reverse("admin:members_member_delete", args=[member.pk]), {"post": "yes"})

    assert not Member.objects.filter(pk=member.pk).exists()
    deleted = AuditEvent.objects.get(object_type="members.member", object_id=str(member.pk))
    assert (deleted.action, deleted.changes["first_name"]) == ("delete", ["Zoe", None])


def test_export_definition_that_has_run_is_not_deleted_from_the_admin(admin_client):
    definition = ExportDefinitionFactory()
    ExportRun.objects.create(definition=definition, actor="t", channel="t").events.create(
        new_status="queued", actor="t", channel="t"
    )

    response = admin_client.post(reverse("admin:exports_exportdefinition_delete", args=[definition.pk]),
                                 {"post": "yes"})  # fmt: skip

    assert response.status_code == 302
    assert any("export run events" in text for text in messages_of(response))
    assert ExportDefinition.objects.filter(pk=definition.pk).exists()


@pytest.mark.parametrize("model", [AuditEvent, PointsEntry, OfferEvent, RewardRedemption])
def test_history_rows_have_no_add_change_or_delete_in_the_admin_for_a_superuser(model, admin_user):
    request = RequestFactory().get("/admin/")
    request.user = admin_user
    model_admin = admin.site._registry[model]

    assert model_admin.has_add_permission(request) is False
    assert model_admin.has_change_permission(request) is False
    assert model_admin.has_delete_permission(request) is False
    assert model_admin.has_view_permission(request) is True


def test_audit_log_lists_searches_and_filters_in_words(admin_client):
    member = MemberFactory(first_name="Findme")
    points_adjust(member=member, points=5, reason="goodwill", actor=CARE)
    RewardFactory(name="Other")
    url = reverse("admin:audit_auditevent_changelist")

    found = admin_client.get(url, {"q": "Findme"}).content.decode()
    filtered = admin_client.get(url, {"action": "points_adjust", "channel": "api:member_care"}).content.decode()
    detail = admin_client.get(reverse("admin:audit_auditevent_change",
                                      args=[AuditEvent.objects.get().pk])).content.decode()  # fmt: skip

    assert "Findme" in found and "Points adjusted" in found
    assert "Findme" in filtered and "API (member care)" in filtered
    assert "Points balance: 0 → 5" in detail
    assert admin_client.get(url, {"object_type": "members.member"}).status_code == 200


def test_member_history_page_lists_points_adjustments_and_changes(admin_client):
    member = MemberFactory(first_name="Ann")
    points_adjust(member=member, points=40, reason="goodwill", actor=CARE)
    member_update(member=member, first_name="Anna", actor=CARE)

    page = admin_client.get(reverse("admin:members_member_history", args=[member.pk])).content.decode()

    assert "Points adjusted: +40 points: goodwill" in page
    assert "points balance: 0 → 40" in page
    assert "first name: Ann → Anna" in page
    assert page.index("first name") < page.index("Points adjusted")  # newest first


def test_certificate_code_history_page_lists_its_status_events(admin_client):
    code = CertificateCodeFactory()
    CertificateCodeEvent.objects.create(
        certificate_code=code, old_status="unused", new_status="redeemed", actor="till-1", channel="api:pos",
        reason="redeemed"
    )  # fmt: skip

    page = admin_client.get(reverse("admin:rewards_certificatecode_history", args=[code.pk])).content.decode()

    assert "Unused → Redeemed" in page and "till-1" in page and "API (pos)" in page


def test_audit_changes_read_as_words_with_times_in_the_programs_zone(admin_client, settings):
    settings.TIME_ZONE = "Europe/Paris"
    event = AuditEvent.objects.create(actor="maria", channel="admin", action="update", object_type="offers.offer",
                                      object_id="1", object_repr="Winter sale", changes={
                                          "requires_activation": [None, False],
                                          "expire_at": [None, "2026-12-03T08:14:00+00:00"],
                                          "earning_mechanism.behavior_type": [None, "purchase_product"]})  # fmt: skip
    page = admin_client.get(reverse("admin:audit_auditevent_change", args=[event.pk])).content.decode()
    assert "Requires activation: — → No" in page
    assert "3 Dec 2026, 09:14 CET" in page
    assert "Earning mechanism: behavior type: — → " in page and "purchase_product</small>" in page
