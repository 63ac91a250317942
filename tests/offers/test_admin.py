from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from offers.models import Offer, OfferEvent, OfferLimit
from tests.admin_imports import import_confirm, import_review, job_page
from tests.members.factories import MemberFactory, SegmentFactory
from tests.offers.factories import (
    ActivationFactory,
    AudienceFactory,
    EarningMechanismFactory,
    LimitFactory,
    OfferFactory,
)

pytestmark = pytest.mark.django_db


def test_offer_changelist_shows_global_status_and_filters(admin_client):
    live = OfferFactory(name="Live one", category="dairy")
    gone = OfferFactory(name="Gone one", expire_at=timezone.now() - timedelta(days=1))
    url = reverse("admin:offers_offer_changelist")

    page = admin_client.get(url).content.decode()
    assert "Live one" in page and "Gone one" in page
    assert "expired" in page and "dairy" in page
    assert "Preview as member" in page

    filtered = admin_client.get(url + "?visible_status=expired").content.decode()
    assert gone.name in filtered and live.name not in filtered


def test_offer_changelist_query_count_does_not_grow(admin_client, django_assert_max_num_queries):
    for _ in range(25):
        LimitFactory(offer=OfferFactory())
    with django_assert_max_num_queries(15):
        admin_client.get(reverse("admin:offers_offer_changelist"))


def _inline_management(prefix, total=0):
    return {
        f"{prefix}-TOTAL_FORMS": str(total),
        f"{prefix}-INITIAL_FORMS": "0",
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }


def test_offer_add_form_saves_components_from_inlines(admin_client):
    segment = SegmentFactory(code="vip")
    data = {
        "external_id": "ADM-1",
        "name": "Admin offer",
        "category": "dairy",
        "fulfillment_flow": "standard",
        "requires_activation": "on",
        **_inline_management("earning_mechanism", 1),
        "earning_mechanism-0-behavior_type": "purchase_product",
        "earning_mechanism-0-sku": "MILK",
        "earning_mechanism-0-min_quantity": "1",
        "earning_mechanism-0-award_type": "points",
        "earning_mechanism-0-points": "25",
        **_inline_management("audiences", 1),
        "audiences-0-type": "segment",
        "audiences-0-segment": str(segment.pk),
        **_inline_management("limits", 1),
        "limits-0-scope": "global",
        "limits-0-kind": "activation",
        "limits-0-max_count": "100",
        **_inline_management("marketing_contents", 1),
        "marketing_contents-0-locale": "en-US",
        "marketing_contents-0-title": "Milk",
    }
    page = admin_client.get(reverse("admin:offers_offer_add")).content.decode()
    assert "Earning mechanism" in page and "Marketing contents" in page and "Audiences" in page

    response = admin_client.post(reverse("admin:offers_offer_add"), data)

    assert response.status_code == 302, response.context["errors"] if response.context else response
    offer = Offer.objects.get(external_id="ADM-1")
    assert offer.earning_mechanism.points == 25
    assert offer.audiences.get().segment == segment
    assert offer.limits.get().max_count == 100
    assert offer.marketing_contents.get().title == "Milk"
    assert OfferEvent.objects.filter(offer=offer, kind="created", channel="admin").exists()


def test_offer_add_form_rejects_product_behavior_without_sku(admin_client):
    data = {
        "external_id": "ADM-2",
        "name": "Broken",
        "fulfillment_flow": "standard",
        **_inline_management("earning_mechanism", 1),
        "earning_mechanism-0-behavior_type": "purchase_product",
        "earning_mechanism-0-award_type": "points",
        "earning_mechanism-0-points": "25",
        **_inline_management("audiences"),
        **_inline_management("limits"),
        **_inline_management("marketing_contents"),
    }
    response = admin_client.post(reverse("admin:offers_offer_add"), data)
    assert response.status_code == 200
    assert not Offer.objects.filter(external_id="ADM-2").exists()


def test_discontinue_action_discontinues_selected(admin_client):
    offer = OfferFactory()
    admin_client.post(
        reverse("admin:offers_offer_changelist"), {"action": "discontinue_selected", "_selected_action": [offer.pk]}
    )
    offer.refresh_from_db()
    assert offer.discontinued_at is not None


def test_preview_as_member_lists_reasons(admin_client):
    member = MemberFactory(external_id="M-PREVIEW", birth_date=date(2015, 1, 1))
    plain = OfferFactory(name="Plain offer")
    adults = OfferFactory(name="Adults offer")
    AudienceFactory(offer=adults, min_age=18)
    opt_in = OfferFactory(name="Opt-in offer", requires_activation=True)
    expired = OfferFactory(name="Expired offer", expire_at=timezone.now() - timedelta(days=1))

    response = admin_client.get(reverse("admin:offers_offer_preview") + "?member=M-PREVIEW")

    assert response.status_code == 200
    rows = {row.offer.pk: row for row in response.context["rows"]}
    assert rows[plain.pk].state.eligible is True
    assert rows[adults.pk].state.visible_status == "age_restricted"
    page = response.content.decode()
    assert "The member&#x27;s age is outside the offer&#x27;s age audience." in page
    assert "The offer has expired." in page
    assert "requires activation and the member has not activated it" in page
    assert f'data-offer="{opt_in.pk}" data-visible-status="visible"' in page
    assert f'data-offer="{expired.pk}" data-visible-status="expired"' in page
    assert member.external_id in page


def test_preview_as_member_at_a_past_moment_and_bad_input(admin_client):
    MemberFactory(external_id="M-PREVIEW")
    offer = OfferFactory(publish_at=timezone.now() + timedelta(days=2))
    url = reverse("admin:offers_offer_preview")
    later = (timezone.now() + timedelta(days=3)).isoformat()

    response = admin_client.get(url, {"member": "M-PREVIEW", "at": later})
    assert [row.state.visible_status for row in response.context["rows"] if row.offer.pk == offer.pk] == ["visible"]
    assert "No member with external id" in admin_client.get(url + "?member=NOPE").content.decode()
    assert "not an ISO 8601" in admin_client.get(url, {"member": "M-PREVIEW", "at": "soon"}).content.decode()
    assert admin_client.get(url).status_code == 200


def test_member_page_has_offers_tab_with_state_columns(admin_client):
    member = MemberFactory()
    offer = OfferFactory(name="Tab offer", requires_activation=True)
    ActivationFactory(offer=offer, member=member)
    EarningMechanismFactory(offer=offer)

    page = admin_client.get(reverse("admin:members_member_change", args=[member.pk])).content.decode()

    assert 'data-tab="offers"' in page
    assert "Tab offer" in page
    assert '<td class="activation-status">Activated</td>' in page
    assert '<td class="eligible">yes</td>' in page
    assert '<td class="fulfillment-count">0</td>' in page


def test_offer_csv_export_and_import(admin_client, django_capture_on_commit_callbacks):
    capture = django_capture_on_commit_callbacks
    OfferFactory(external_id="EXP-1", name="Exported", category="dairy")
    form = admin_client.get(reverse("admin:offers_offer_export")).context["form"]
    selected = {name: "on" for name, field in form.fields.items() if getattr(field, "is_selectable_field", False)}
    export = admin_client.post(
        reverse("admin:offers_offer_export"),
        {"format": _format_index(admin_client, "export"), "resource": 0, **selected},
    )
    assert export.status_code == 200
    text = export.content.decode()
    assert text.splitlines()[0].startswith("external_id,name,category,publish_at")
    assert "EXP-1,Exported,dairy" in text and "visible" in text

    content = (
        "external_id,name,category,publish_at,expire_at,usage_start,usage_end,requires_activation,"
        "allow_multiple_responses,fulfillment_flow\n"
        "IMP-1,Imported,bakery,2026-01-01T00:00:00Z,2099-01-01T00:00:00Z,,,1,0,standard\n"
        "IMP-2,Bad dates,bakery,2026-01-01T00:00:00Z,2020-01-01T00:00:00Z,,,0,0,standard\n"
    )
    review = _upload(admin_client, capture, content)
    assert review.errors == 1
    assert not Offer.objects.filter(external_id__startswith="IMP").exists()  # a bad row blocks the file

    good = _upload(admin_client, capture, content.rsplit("IMP-2", 1)[0])
    assert import_confirm(admin_client, capture, good).status == "succeeded"
    imported = Offer.objects.get(external_id="IMP-1")
    assert imported.requires_activation is True and imported.category == "bakery"


def test_offer_csv_import_reports_malformed_rows(admin_client, django_capture_on_commit_callbacks):
    content = "external_id,name,publish_at,fulfillment_flow\nIMP-3,Bad,not-a-date,warp\n"
    review = _upload(admin_client, django_capture_on_commit_callbacks, content)
    assert review.errors == 1
    assert {issue.field for issue in review.issues.all()} >= {"publish_at"}
    assert "Confirm import" not in job_page(admin_client, review)  # nothing to confirm: the review stops it
    assert not Offer.objects.exists()


def _format_index(admin_client, kind):
    page = admin_client.get(reverse(f"admin:offers_offer_{kind}"))
    form = page.context["form"]
    return next(value for value, label in form.fields["format"].choices if str(label).lower() == "csv")


def _upload(admin_client, capture, content):
    return import_review(admin_client, capture, "admin:offers_offer_import", content, name="offers.csv")


def test_limit_counter_realigned_when_limit_added_in_admin(admin_client):
    offer = OfferFactory(requires_activation=True)
    ActivationFactory(offer=offer, member=MemberFactory())
    from config.actors import Actor
    from offers.selectors import offer_audit_snapshot
    from offers.services import offer_admin_saved

    before = offer_audit_snapshot(offer_id=offer.pk)
    OfferLimit.objects.create(offer=offer, scope="global", kind="activation", max_count=1)
    offer_admin_saved(offer=offer, before=before, actor=Actor.system())
    assert OfferLimit.objects.get(offer=offer).used_count == 1


def test_offer_change_page_and_record_lists_render_with_data(admin_client, pos):
    offer = OfferFactory(name="Rendered offer", requires_activation=True)
    EarningMechanismFactory(offer=offer, sku="MILK", points=40)
    LimitFactory(offer=offer, scope="global", kind="fulfillment", max_count=9)
    member = MemberFactory()
    ActivationFactory(offer=offer, member=member)
    from tests.members.factories import OrgEntityFactory

    OrgEntityFactory(code="S-MAIN")
    pos.post(
        "/api/v1/transactions",
        {
            "transaction_id": "ADM-T1",
            "member": member.external_id,
            "store": "S-MAIN",
            "total_amount": "3",
            "items": [{"sku": "MILK", "quantity": 1, "unit_price": "3"}],
        },
        format="json",
    )

    change = admin_client.get(reverse("admin:offers_offer_change", args=[offer.pk])).content.decode()
    assert "Rendered offer" in change and 'value="MILK"' in change and 'value="9"' in change
    for name in ("activation", "fulfillment", "transaction", "offerevent"):
        page = admin_client.get(reverse(f"admin:offers_{name}_changelist"))
        assert page.status_code == 200, name
    assert "ADM-T1" in admin_client.get(reverse("admin:offers_transaction_changelist")).content.decode()
    assert member.external_id in admin_client.get(reverse("admin:offers_fulfillment_changelist")).content.decode()
