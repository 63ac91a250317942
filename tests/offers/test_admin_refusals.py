"""The offer form refuses what could never work, in words: an award without its points, a spend without its
amount, a limit of 0; and a database constraint reads as its sentence."""

import pytest
from django.urls import reverse

from offers.models import Offer
from tests.offers.test_admin import _inline_management

pytestmark = pytest.mark.django_db


def offer_data(**fields):
    return {
        "external_id": "ADM-R", "name": "Refused", "fulfillment_flow": "standard",
        **_inline_management("earning_mechanism", 1 if any(k.startswith("earning") for k in fields) else 0),
        **_inline_management("audiences"),
        **_inline_management("limits", 1 if any(k.startswith("limits") for k in fields) else 0),
        **_inline_management("marketing_contents"),
        **fields,
    }  # fmt: skip


@pytest.mark.parametrize(
    "mechanism, field, sentence",
    [
        ({"behavior_type": "purchase_product", "sku": "MILK", "award_type": "points"}, "points",
         "Fixed points need the number of points to award."),
        ({"behavior_type": "purchase_product", "sku": "MILK", "award_type": "points_per_unit"}, "points_per_unit",
         "Points per unit need the number of points for each unit."),
        ({"behavior_type": "spend", "award_type": "points", "points": "10"}, "min_amount",
         "Spend an amount needs the amount to spend."),
    ],
)  # fmt: skip
def test_offer_form_refuses_a_mechanism_that_awards_nothing(admin_client, mechanism, field, sentence):
    data = offer_data(**{f"earning_mechanism-0-{name}": value for name, value in mechanism.items()})
    response = admin_client.post(reverse("admin:offers_offer_add"), data)
    assert response.status_code == 200 and not Offer.objects.exists()
    assert sentence in response.content.decode()


def test_offer_form_refuses_a_limit_of_zero(admin_client):
    data = offer_data(**{"limits-0-scope": "global", "limits-0-kind": "activation", "limits-0-max_count": "0"})
    response = admin_client.post(reverse("admin:offers_offer_add"), data)
    assert response.status_code == 200 and not Offer.objects.exists()
    assert "A limit of 0 can never be met" in response.content.decode()


def test_offer_form_shows_a_violated_constraint_as_a_sentence(admin_client):
    data = offer_data(publish_at_0="2026-12-10", publish_at_1="09:00", expire_at_0="2026-12-01", expire_at_1="09:00")
    response = admin_client.post(reverse("admin:offers_offer_add"), data)
    html = response.content.decode()
    assert response.status_code == 200 and not Offer.objects.exists()
    assert "The offer must expire after it is published." in html and "is violated" not in html
