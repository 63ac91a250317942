"""The coupon's QR on its admin page and on the member's Coupons tab, served behind the admin's login."""

import re

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from tests.code_images import decode_png, decode_svg
from tests.coupons.factories import CouponFactory
from tests.members.factories import MemberFactory

pytestmark = pytest.mark.django_db


def image_sources(page: str) -> list[str]:
    return re.findall(r'<img src="([^"]+/image/)"', page)


def test_coupon_page_shows_a_qr_that_scans_back_to_the_code(admin_client):
    coupon = CouponFactory(code="CPN-ADMIN1")
    page = admin_client.get(reverse("admin:coupons_coupon_change", args=[coupon.pk])).content.decode()
    [source] = image_sources(page)
    assert decode_svg(admin_client.get(source).content) == [("QR Code", "CPN-ADMIN1")]
    barcode = admin_client.get(source, {"symbology": "code128", "format": "png"})
    assert decode_png(barcode.content) == [("Code 128", "CPN-ADMIN1")]


def test_member_coupons_tab_shows_each_coupons_qr(admin_client):
    member = MemberFactory()
    codes = {CouponFactory(member=member, code=f"CPN-TAB{n}").code for n in range(3)}
    page = admin_client.get(reverse("admin:members_member_change", args=[member.pk])).content.decode()
    sources = image_sources(page)
    assert len(sources) == 3
    assert {decode_svg(admin_client.get(source).content)[0][1] for source in sources} == codes


def test_admin_code_image_needs_a_login_and_the_coupon_view_permission(client):
    url = reverse("admin:coupons_coupon_image", args=[CouponFactory().pk])
    assert client.get(url).status_code == 302  # to the login page
    client.force_login(User.objects.create_user("clerk", password="pw", is_staff=True))
    assert client.get(url).status_code == 403


def test_admin_code_image_bad_query_is_400_and_unknown_coupon_404(admin_client):
    url = reverse("admin:coupons_coupon_image", args=[CouponFactory().pk])
    assert admin_client.get(url, {"symbology": "maxicode"}).status_code == 400
    for pk in (2**31, 2**63 - 1, 2**63, 2**64 + 5):
        assert admin_client.get(reverse("admin:coupons_coupon_image", args=[pk])).status_code == 404
