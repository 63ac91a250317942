from datetime import timedelta

import pytest
from django.contrib import admin
from django.core.files.storage import default_storage
from django.urls import reverse
from django.utils import timezone

from config.actors import Actor
from exports.models import ExportRun
from offers.models import OfferResponse
from offers.responses import admin as response_admin
from offers.responses.services import offer_response_assign, offer_response_claim, offer_response_transition
from offers.services import offer_activate
from tests.members.factories import MemberFactory
from tests.offers.factories import OfferFactory

pytestmark = pytest.mark.django_db
ACTOR = Actor.system()
CHANGELIST = "admin:offers_offerresponse_changelist"


@pytest.fixture
def responses():
    now = timezone.now()
    alice, bob = MemberFactory(external_id="M-ALICE"), MemberFactory(external_id="M-BOB")
    milk = OfferFactory(name="Milk deal")
    coffee = OfferFactory(name="Coffee clip", opt_in=True, usage_start=now - timedelta(days=1))
    blender = OfferFactory(name="Blender shipped", fulfillment_flow="shipping")
    pending = offer_response_claim(member=alice, offer=milk, actor=ACTOR)
    offer_activate(member=alice, offer=coffee, actor=ACTOR)
    clipped = OfferResponse.objects.get(offer=coffee)
    shipped = offer_response_assign(member=bob, offer=blender, actor=ACTOR, certificate_code="CERT-BLEND")
    offer_response_transition(response=shipped, to_status="processing", actor=ACTOR)
    passed = offer_response_claim(member=bob, offer=milk, actor=ACTOR)
    OfferResponse.objects.filter(pk=passed.pk).update(
        usage_start=now - timedelta(days=9), usage_end=now - timedelta(days=1)
    )
    return {
        "pending": pending,
        "clipped": clipped,
        "processing": shipped,
        "passed": passed,
        "milk": milk,
        "alice": alice,
    }


def _shown_ids(page):
    return {row.pk for row in page.context["cl"].result_list}


def test_offer_responses_changelist_shows_columns_icons_and_labels(admin_client, responses):
    page = admin_client.get(reverse(CHANGELIST))
    assert page.status_code == 200
    html = page.content.decode()
    for header in ("Offer", "Member", "Certificate code", "Processing status", "Usage period", "Created at"):
        assert header in html
    assert "Milk deal" in html and "Coffee clip" in html and "Blender shipped" in html
    assert "Opt-in" in html and "Shipping" in html and "Standard" in html
    assert "M-ALICE" in html and "CERT-BLEND" in html
    assert 'class="response-status response-status-pending"' in html and "⏳ Pending" in html.replace(
        '<span aria-hidden="true">⏳</span>', "⏳"
    )
    assert "response-status-clipped" in html and "response-status-processing" in html
    assert "usage-period-always" in html and "icon-yes.svg" in html
    assert "usage-period-active" in html
    assert "usage-period-passed" in html and "icon-no.svg" in html
    assert _shown_ids(page) == {r.pk for key, r in responses.items() if isinstance(r, OfferResponse)}


@pytest.mark.parametrize(
    "query, expected",
    [
        ("?status__exact=clipped", {"clipped"}),
        ("?usage_period=passed", {"passed"}),
        ("?usage_period=active", {"clipped"}),
        ("?usage_period=always", {"pending", "processing"}),
        ("?q=M-ALICE", {"pending", "clipped"}),
        ("?q=CERT-BLEND", {"processing"}),
    ],
)
def test_offer_responses_changelist_filters_and_search(admin_client, responses, query, expected):
    page = admin_client.get(reverse(CHANGELIST) + query)
    assert _shown_ids(page) == {responses[key].pk for key in expected}


def test_offer_responses_changelist_filters_by_offer(admin_client, responses):
    page = admin_client.get(reverse(CHANGELIST) + f"?offer__id__exact={responses['milk'].pk}")
    assert _shown_ids(page) == {responses["pending"].pk, responses["passed"].pk}


def test_offer_responses_changelist_runs_fixed_queries_whatever_the_page_size(
    admin_client, monkeypatch, django_assert_num_queries
):
    for number in range(30):
        offer_response_claim(member=MemberFactory(), offer=OfferFactory(opt_in=number % 2 == 0), actor=ACTOR)
    model_admin = admin.site._registry[OfferResponse]
    url = reverse(CHANGELIST)
    admin_client.get(url)  # session and content types cached
    counts = []
    for size in (5, 25):
        monkeypatch.setattr(model_admin, "list_per_page", size)
        with django_assert_num_queries(5) as captured:
            page = admin_client.get(url)
        assert len(page.context["cl"].result_list) == size
        counts.append(len(captured))
    assert counts[0] == counts[1]


def test_offer_responses_bulk_cancel_asks_then_transitions_and_reports_refusals(admin_client, responses):
    done = responses["pending"]
    offer_response_transition(response=done, to_status="completed", actor=ACTOR)
    chosen = [done.pk, responses["clipped"].pk, responses["processing"].pk]
    data = {"action": "cancel_selected", admin.helpers.ACTION_CHECKBOX_NAME: chosen}

    confirm = admin_client.post(reverse(CHANGELIST), data)
    assert confirm.status_code == 200
    assert "confirm-responses" in confirm.content.decode() and "canceled" in confirm.content.decode()
    assert OfferResponse.objects.filter(status="canceled").count() == 0

    result = admin_client.post(reverse(CHANGELIST), {**data, "confirm": "yes", "reason": "fraud"}, follow=True)
    messages = [str(m) for m in result.context["messages"]]
    assert "2 offer response(s) canceled." in messages
    assert any(f"#{done.pk} (completed)" in m for m in messages)
    assert set(OfferResponse.objects.filter(pk__in=chosen).values_list("status", flat=True)) == {
        "completed",
        "canceled",
    }
    event = responses["clipped"].events.latest("at", "id")
    assert (event.from_status, event.to_status, event.channel, event.reason) == (
        "clipped",
        "canceled",
        "admin",
        "fraud",
    )


def test_offer_responses_bulk_expire(admin_client, responses):
    data = {"action": "expire_selected", admin.helpers.ACTION_CHECKBOX_NAME: [responses["passed"].pk], "confirm": "yes"}
    admin_client.post(reverse(CHANGELIST), data)
    assert OfferResponse.objects.get(pk=responses["passed"].pk).status == "expired"


def test_offer_response_detail_shows_read_only_history(admin_client, responses):
    response = responses["clipped"]
    page = admin_client.get(reverse("admin:offers_offerresponse_change", args=[response.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert "History" in html
    assert "created (activation)" in html and "clipped" in html
    assert 'name="_save"' not in html  # read-only


def test_offer_page_has_a_responses_section_for_that_offer(admin_client, responses):
    page = admin_client.get(reverse("admin:offers_offer_change", args=[responses["milk"].pk]))
    html = page.content.decode()
    assert 'id="responses"' in html
    shown = {row["response"].pk for row in page.context["response_rows"]}
    assert shown == {responses["pending"].pk, responses["passed"].pk}
    assert "M-ALICE" in html and "usage-period-passed" in html


def test_offer_page_responses_section_runs_fixed_queries(admin_client, monkeypatch, django_assert_num_queries):
    offer = OfferFactory()
    for _ in range(12):
        offer_response_claim(member=MemberFactory(), offer=offer, actor=ACTOR)
    url = reverse("admin:offers_offer_change", args=[offer.pk])
    admin_client.get(url)
    counts = []
    for size in (3, 12):
        monkeypatch.setattr(response_admin, "RESPONSES_PER_PAGE", size)
        with django_assert_num_queries(counts[0] if counts else 30, exact=False) as captured:
            page = admin_client.get(url)
        assert len(page.context["response_rows"]) == size
        counts.append(len(captured))
    assert counts[0] == counts[1]


def test_member_offers_tab_lists_responses_with_history(admin_client, responses):
    alice = responses["alice"]
    offer_response_transition(response=responses["pending"], to_status="completed", actor=Actor("till-3", "api:pos"))
    page = admin_client.get(reverse("admin:members_member_change", args=[alice.pk]))
    html = page.content.decode()
    panel = html[html.index('id="member-tab-panel-offers"') :]
    assert "membership-offer" in panel and "Offer responses" in panel
    assert f'data-response="{responses["pending"].pk}"' in panel
    assert f'data-response="{responses["clipped"].pk}"' in panel
    assert f'data-response="{responses["processing"].pk}"' not in panel  # Bob's
    assert "Pending → Completed by till-3 (API (pos)" in panel
    assert "response-status-completed" in panel and "response-status-clipped" in panel


def test_member_offers_tab_runs_fixed_queries_whatever_the_responses(admin_client, django_assert_num_queries):
    member = MemberFactory()
    url = reverse("admin:members_member_change", args=[member.pk])

    def page_queries():
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as captured:
            admin_client.get(url)
        return len(captured)

    offer_response_claim(member=member, offer=OfferFactory(), actor=ACTOR)
    page_queries()
    few = page_queries()
    for _ in range(6):
        response = offer_response_claim(member=member, offer=OfferFactory(), actor=ACTOR)
        offer_response_transition(response=response, to_status="completed", actor=ACTOR)
    # more offers add none: membership-offers run in a fixed number of queries as well
    with django_assert_num_queries(few):
        admin_client.get(url)


def _export(admin_client, query, django_capture_on_commit_callbacks):
    url = reverse("admin:offers_offerresponse_export") + query
    assert admin_client.get(url).status_code == 200  # the confirmation page
    with django_capture_on_commit_callbacks(execute=True):
        started = admin_client.post(url)
    assert started.status_code == 302
    run = ExportRun.objects.latest("pk")
    with default_storage.open(run.file.name, "rb") as handle:
        return run, handle.read().decode().splitlines()


def test_offer_responses_export_honours_the_changelist_filters(admin_client, responses,
                                                               django_capture_on_commit_callbacks):  # fmt: skip
    _, everything = _export(admin_client, "", django_capture_on_commit_callbacks)
    assert everything[0].startswith("id,offer_external_id,offer_name,member_external_id,status,source")
    assert len(everything) == 5

    run, clipped_only = _export(admin_client, "?status__exact=clipped", django_capture_on_commit_callbacks)
    assert run.definition.filters == {"status": "clipped"}
    assert len(clipped_only) == 2
    assert clipped_only[1].startswith(f"{responses['clipped'].pk},") and ",clipped,activation," in clipped_only[1]


def test_offer_responses_claim_page_claims_through_the_service(admin_client):
    member, offer = MemberFactory(external_id="M-CARE"), OfferFactory(external_id="OFF-CARE")
    url = reverse("admin:offers_offerresponse_claim")
    assert "Claim an offer for a member" in admin_client.get(reverse(CHANGELIST)).content.decode()

    created = admin_client.post(url, {"member": "M-CARE", "offer": "OFF-CARE", "certificate_code": "C-1"})
    response = OfferResponse.objects.get(member=member, offer=offer)
    assert created.status_code == 302
    assert (response.status, response.source, response.certificate_code) == ("pending", "claim", "C-1")
    assert response.events.get().channel == "admin"

    again = admin_client.post(url, {"member": "M-CARE", "offer": "OFF-CARE"})
    assert again.status_code == 200 and "already holds an open response" in again.content.decode()
    unknown = admin_client.post(url, {"member": "NOPE", "offer": "OFF-CARE"})
    assert "No member with this external id." in unknown.content.decode()
    assert OfferResponse.objects.count() == 1


def test_offer_responses_changelist_export_link_carries_the_filters(admin_client, responses):
    html = admin_client.get(reverse(CHANGELIST) + "?status__exact=clipped").content.decode()
    assert 'href="' + reverse("admin:offers_offerresponse_export") + "?status__exact=clipped" in html
