import pytest
from django.urls import reverse

from config.actors import Actor
from members.models import PointsEntry
from members.services import points_post
from till.returns.models import Return
from till.returns.services import return_record

from .conftest import TILL

pytestmark = pytest.mark.django_db


def test_member_points_tab_shows_a_return_and_its_shortfall(admin_client, buy, offers_for_basket, store):
    member = buy()
    points_post(member=member, points=-85, kind=PointsEntry.Kind.SPEND, actor=Actor.system())
    return_record(transaction_id="T-1", store=store, return_id="R-7", lines=[{"line_ref": "1", "quantity": 4}],
                  actor=TILL)  # fmt: skip

    page = admin_client.get(reverse("admin:members_member_change", args=[member.pk])).content.decode()

    assert "Taken back for a return" in page
    assert "Return R-7: 85 points not taken back, the balance was too low" in page


def test_returns_list_and_page_show_lines_and_coupons_in_words(admin_client, buy, redeemed_coupon, store):
    member = buy()
    coupon = redeemed_coupon(member, on_return="reinstate", skus=["BREAD"])
    return_record(transaction_id="T-1", store=store, return_id="R-1", lines=[{"line_ref": "2", "quantity": 2}],
                  actor=TILL)  # fmt: skip
    row = Return.objects.get()

    listing = admin_client.get(reverse("admin:till_return_changelist")).content.decode()
    page = admin_client.get(reverse("admin:till_return_change", args=[row.pk])).content.decode()

    assert f"{coupon.code}: usable again" in listing
    assert "BREAD" in page
    assert admin_client.post(reverse("admin:till_return_delete", args=[row.pk])).status_code == 403
