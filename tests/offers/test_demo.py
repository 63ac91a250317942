import io

import pytest

from config.actors import Actor
from members import demo as members_demo
from offers import demo, selectors
from offers.models import Activation, Fulfillment, Offer

pytestmark = pytest.mark.django_db


def test_demo_seed_creates_each_kind_of_offer_and_is_idempotent():
    out = io.StringIO()
    members_demo.seed(stdout=out, actor=Actor.cli())
    demo.seed(stdout=out, actor=Actor.cli())
    demo.seed(stdout=out, actor=Actor.cli())

    statuses = {offer.external_id: selectors.offer_global_visible_status(offer) for offer in selectors.offer_queryset()}
    assert statuses["DEMO-SPRING-EXPIRED"] == "expired"
    assert statuses["DEMO-HOLIDAY-UNPUBLISHED"] == "unpublished"
    assert statuses["DEMO-BREAD-DISCONTINUED"] == "discontinued"
    assert statuses["DEMO-MILK-2X"] == "visible"
    assert Offer.objects.filter(requires_activation=True).count() == 2
    assert Offer.objects.filter(fulfillment_flow="shipping").count() == 1
    assert Activation.objects.exists() and Fulfillment.objects.exists()
    assert "skipped" in out.getvalue()
    assert Offer.objects.count() == 9
