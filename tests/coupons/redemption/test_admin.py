import pytest
from django.urls import reverse

from coupons.models import Coupon, CouponEvent, CouponRedemption, ExchangeRate, UnknownCodeBurst
from tests.coupons.factories import CouponFactory, CouponSeriesFactory
from tests.members.factories import MemberFactory, OrgEntityFactory

pytestmark = pytest.mark.django_db


def test_revoke_page_shows_the_count_then_revokes_on_confirmation(admin_client, django_capture_on_commit_callbacks):
    series = CouponSeriesFactory()
    coupons = [CouponFactory(series=series) for _ in range(3)]
    CouponFactory(series=series, status="redeemed")
    url = reverse("admin:coupons_couponseries_revoke", args=[series.pk])
    change = admin_client.get(reverse("admin:coupons_couponseries_change", args=[series.pk]))
    assert url.encode() in change.content
    counted = admin_client.post(url, {"mode": "all_unredeemed"})
    assert counted.status_code == 200
    assert counted.context["count"] == 3
    assert b"<strong>3</strong> coupons will be revoked" in counted.content
    assert not Coupon.objects.filter(status="revoked").exists()
    unconfirmed = admin_client.post(url, {"mode": "all_unredeemed", "step": "confirm"})
    assert unconfirmed.status_code == 200
    assert not Coupon.objects.filter(status="revoked").exists()
    with django_capture_on_commit_callbacks(execute=True):  # the revoke job's worker
        done = admin_client.post(url, {"mode": "all_unredeemed", "step": "confirm", "confirm": "on"})
    assert done.status_code == 302
    assert set(Coupon.objects.filter(pk__in=[c.pk for c in coupons]).values_list("status", flat=True)) == {"revoked"}
    assert Coupon.objects.filter(series=series, status="redeemed").count() == 1
    assert CouponEvent.objects.filter(new_status="revoked", channel="admin").count() == 3


def test_revoke_page_for_members_counts_their_active_coupons(admin_client):
    series = CouponSeriesFactory()
    member = MemberFactory()
    CouponFactory(series=series, member=member)
    CouponFactory(series=series, member=member)
    CouponFactory(series=series)
    url = reverse("admin:coupons_couponseries_revoke", args=[series.pk])
    counted = admin_client.post(url, {"mode": "members", "members": f"{member.external_id}\n"})
    assert counted.context["count"] == 2
    unknown = admin_client.post(url, {"mode": "members", "members": "NOBODY"})
    assert unknown.context["count"] is None
    assert b"Unknown member: NOBODY" in unknown.content


def test_transfer_page_moves_the_code(admin_client):
    coupon = CouponFactory()
    target = MemberFactory()
    url = reverse("admin:coupons_coupon_transfer", args=[coupon.pk])
    assert admin_client.get(url).status_code == 200
    assert admin_client.post(url, {"member": "NOBODY"}).status_code == 200
    response = admin_client.post(url, {"member": target.external_id})
    assert response.status_code == 302
    assert Coupon.objects.get(pk=coupon.pk).member == target


def test_redemption_screens_list_their_rows(admin_client, make_api_client):
    coupon = CouponFactory()
    store = OrgEntityFactory(code="S-ADM")
    CouponRedemption.objects.create(
        coupon=coupon, series=coupon.series, member=coupon.member, store=store, bill_amount=10, discount_amount=5,
        currency="USD", actor="t", channel="api",
    )  # fmt: skip
    ExchangeRate.objects.create(from_currency="USD", to_currency="EUR", rate="0.9")
    client = make_api_client("pos", stores=[store]).api_client
    from django.utils import timezone

    UnknownCodeBurst.objects.create(client=client, window_start=timezone.now(), limit=20, last_code_tried="ZZZ")
    for name in ("couponredemption", "exchangerate", "unknowncodeburst", "couponresend"):
        response = admin_client.get(reverse(f"admin:coupons_{name}_changelist"))
        assert response.status_code == 200, name
    assert b"ZZZ" in admin_client.get(reverse("admin:coupons_unknowncodeburst_changelist")).content
