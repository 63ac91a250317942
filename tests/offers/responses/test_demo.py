import io

import pytest

from config.actors import Actor
from members import demo as members_demo
from offers import demo
from offers.models import OfferResponse

pytestmark = pytest.mark.django_db


def test_demo_seed_adds_offer_responses_in_each_status_once():
    out = io.StringIO()
    members_demo.seed(stdout=out, actor=Actor.cli())
    demo.seed(stdout=out, actor=Actor.cli())
    before = OfferResponse.objects.count()
    demo.seed(stdout=out, actor=Actor.cli())

    assert OfferResponse.objects.count() == before
    statuses = set(OfferResponse.objects.values_list("status", flat=True))
    assert {"pending", "clipped", "processing", "shipping", "completed", "canceled", "expired"} <= statuses
    assert OfferResponse.objects.filter(source="automatic").exclude(certificate_code="").count() == 4
    assert "demo responses present, skipped" in out.getvalue()
