"""Every admin screen speaks in words: no status, kind or reason code of the product is shown raw, except in small
type after its words (or in code), on every list and one change page per model of the demo data."""

import io
import re
from datetime import UTC, datetime
from html.parser import HTMLParser

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.urls import reverse

from config import text
from config.actors import Actor
from config.admin_display import code_in_words, words_by_code
from exports import services as export_services
from exports.models import ExportDefinition
from members.models import Member, OrgEntity
from members.services import till_refusal_record
from till.offline.models import OfflineBatch, OfflineConflict
from webhooks.models import Delivery, Event
from webhooks.services import endpoint_create

pytestmark = pytest.mark.django_db

ACTOR = Actor.system("test")
TILL = Actor(name="pos-17", channel="api:pos")
VOID_TAGS = {"br", "input", "img", "meta", "link", "hr", "col", "source", "wbr", "area", "base", "embed", "track"}
# Where a code may stand: small type after its words, code, and what people do not read as text.
# A JSON value is shown as the data it is (in pre).
CODE_ALLOWED_IN = {"small", "code", "pre", "script", "style", "textarea", "icon", "option"}


def product_codes() -> tuple[set[str], set[str]]:
    """The codes of the product's status and kind enums and its reason maps (a code equal to its label is a word),
    and the enums' labels (words, even where they name a code)."""
    codes, labels = set(), set()
    for model in apps.get_models():
        if model._meta.app_label not in {"members", "offers", "rewards", "coupons", "exports", "jobs", "audit",
                                         "webhooks", "till", "api"}:  # fmt: skip
            continue
        for field in model._meta.concrete_fields:
            for value, label in getattr(field, "flatchoices", None) or ():
                if isinstance(value, str) and value != str(label):
                    codes.add(value)
                    labels.add(str(label))
    for name in dir(text):
        if name.endswith(("_WORDS", "_SENTENCES")):
            codes.update(getattr(text, name))
    return codes, labels


class RawCodes(HTMLParser):
    """Text nodes that are a code (or carry one with an underscore) outside the places a code may stand."""

    def __init__(self, codes, labels):
        super().__init__()
        self.codes, self.labels, self.open, self.found = codes, labels, [], []

    def handle_starttag(self, tag, attrs):
        if "material-symbols" in (dict(attrs).get("class") or ""):
            tag = "icon"  # an icon's name is a ligature, drawn, not read
        if tag not in VOID_TAGS:
            self.open.append(tag)

    def handle_endtag(self, tag):
        if tag in VOID_TAGS:
            return
        while self.open and self.open.pop() not in (tag, "icon"):
            pass

    def handle_data(self, data):
        if CODE_ALLOWED_IN.intersection(self.open) or not data.strip():
            return
        words = data.strip()
        if words in self.labels:
            return
        # a status change written as codes ("queued → running") counts too
        moves = set(re.findall(r"([a-z_]+)\s*→", words)) | set(re.findall(r"→\s*([a-z_]+)", words))
        for token in re.findall(r"[a-z][a-z0-9_]*[a-z0-9]", words):
            if token in self.codes and ("_" in token or token == words or token in moves):
                self.found.append(f"{token!r} in {words[:80]!r}")


def raw_codes(html: str, codes: set[str], labels: set[str]) -> list[str]:
    parser = RawCodes(codes, labels)
    parser.feed(html)
    return parser.found


def seed_the_screens_the_demo_leaves_empty():
    """Rows for the lists the demo has none of: a finished export, a webhook delivery, refusals at the till and an
    offline conflict."""
    definition = ExportDefinition.objects.order_by("pk").first()
    run = export_services.export_run_create(definition=definition, actor=ACTOR)
    export_services.export_run_execute(run_id=run.pk, actor=ACTOR)
    endpoint, _secret = endpoint_create(url="https://hooks.example.com/offerdesk", events=["coupon.issued"],
                                        actor=ACTOR)  # fmt: skip
    Delivery.objects.create(endpoint=endpoint, event=Event.objects.order_by("pk").first(), subject="coupon:1",
                            status="failed", attempts=3, error="HTTP 503")  # fmt: skip
    member = Member.objects.order_by("pk").first()
    store = OrgEntity.objects.filter(type=OrgEntity.Type.STORE).order_by("pk").first()
    till_refusal_record(member=member, store=store, action="redeem", code="WIN-1",
                        reasons=["store_not_allowed", "hour_not_allowed"], actor=TILL)  # fmt: skip
    batch = OfflineBatch.objects.create(batch_id="B-1", store=store, total_rows=1, rejected_count=1,
                                        request_fingerprint="f" * 64, actor="pos-17", channel="api:pos")  # fmt: skip
    OfflineConflict.objects.create(batch=batch, row_index=0, code="WIN-1", member=member, offline_store=store,
                                   offline_redeemed_at=datetime(2026, 12, 3, 9, 14, tzinfo=UTC))  # fmt: skip


def admin_pages(request):
    for model, model_admin in admin.site._registry.items():
        name = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        yield reverse(f"{name}_changelist")
        first = model_admin.get_queryset(request).order_by("pk").first()
        if first is not None:
            yield reverse(f"{name}_change", args=[first.pk])


def test_every_admin_screen_shows_statuses_kinds_and_reasons_in_words(admin_client, rf):
    call_command("seed_demo", stdout=io.StringIO())
    seed_the_screens_the_demo_leaves_empty()
    request = rf.get("/admin/")
    request.user = get_user_model().objects.get(is_superuser=True)
    (codes, labels), failures = product_codes(), []
    for page in admin_pages(request):
        response = admin_client.get(page)
        assert response.status_code == 200, page
        failures.extend(f"{page}: {found}" for found in raw_codes(response.content.decode(), codes, labels))
    assert failures == [], "\n".join(failures)


def test_code_in_words_puts_the_words_first_and_the_code_in_small_type():
    assert code_in_words("missing_required_segments") == (
        'Not in the required segments <small class="machine-code">missing_required_segments</small>'
    )
    assert code_in_words("coupon.issued") == 'Coupon issued <small class="machine-code">coupon.issued</small>'
    assert code_in_words("api:member_care", channel=True) == (
        'API (member care) <small class="machine-code">api:member_care</small>'
    )
    assert code_in_words("Winter sale") == "Winter sale"
    assert "members" in words_by_code()  # a dataset reads as its label


def test_a_column_in_words_stays_sortable_by_its_field(admin_client, rf):
    from coupons.models import CouponEvent
    from tests.coupons.factories import CouponFactory

    coupon = CouponFactory()
    for old, new in (("", "issued"), ("issued", "redeemed")):
        CouponEvent.objects.create(coupon=coupon, old_status=old, new_status=new, actor="t", channel="cli")
    request = rf.get("/admin/")
    request.user = get_user_model().objects.create_superuser("words-admin", "w@example.com", "x")
    columns = admin.site._registry[CouponEvent].get_list_display(request)
    new_status = next(column for column in columns if getattr(column, "__name__", "") == "new_status")
    assert new_status.admin_order_field == "new_status"

    index = columns.index(new_status) + 1
    page = admin_client.get(reverse("admin:coupons_couponevent_changelist"), {"o": f"-{index}"}).content.decode()
    assert re.findall(r'class="field-new_status[^>]*>([^<]+)<', page) == ["Redeemed", "Issued"]
