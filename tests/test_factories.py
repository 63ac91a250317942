"""Every status trait of the factories builds a row the database accepts (its check constraints), in that status."""

import pytest

from tests.coupons.factories import (
    BulkIssueJobFactory,
    CouponFactory,
    ReminderDeliveryFactory,
    UploadFactory,
)
from tests.exports.factories import ExportRunFactory
from tests.offers.factories import ActivationFactory, OfferResponseFactory
from tests.rewards.factories import CertificateCodeFactory, RewardRedemptionFactory

pytestmark = pytest.mark.django_db

TRAITS = [
    (CouponFactory, {}, "issued"),
    (CouponFactory, {"unissued": True}, "unissued"),
    (CouponFactory, {"redeemed": True}, "redeemed"),
    (CouponFactory, {"expired": True}, "expired"),
    (CouponFactory, {"revoked": True}, "revoked"),
    (OfferResponseFactory, {}, "pending"),
    (OfferResponseFactory, {"clipped": True}, "clipped"),
    (OfferResponseFactory, {"completed": True}, "completed"),
    (OfferResponseFactory, {"canceled": True}, "canceled"),
    (OfferResponseFactory, {"expired": True}, "expired"),
    (CertificateCodeFactory, {}, "unused"),
    (CertificateCodeFactory, {"reward": None}, "unused"),
    (CertificateCodeFactory, {"reserved": True}, "reserved"),
    (CertificateCodeFactory, {"assigned": True}, "redeemed"),
    (CertificateCodeFactory, {"assigned": True, "reward": None}, "redeemed"),
    (CertificateCodeFactory, {"awarded": True}, "awarded"),
    (CertificateCodeFactory, {"fulfilled": True}, "fulfilled"),
    (UploadFactory, {}, "queued"),
    (UploadFactory, {"running": True}, "running"),
    (UploadFactory, {"succeeded": True}, "succeeded"),
    (UploadFactory, {"failed": True, "codes": True}, "failed"),
    (BulkIssueJobFactory, {}, "queued"),
    (BulkIssueJobFactory, {"running": True, "allowed_list": True}, "running"),
    (BulkIssueJobFactory, {"succeeded": True}, "succeeded"),
    (BulkIssueJobFactory, {"failed": True}, "failed"),
    (ExportRunFactory, {}, "queued"),
    (ExportRunFactory, {"running": True}, "running"),
    (ExportRunFactory, {"succeeded": True}, "succeeded"),
    (ExportRunFactory, {"failed": True}, "failed"),
    (ReminderDeliveryFactory, {}, "claimed"),
    (ReminderDeliveryFactory, {"sent": True}, "sent"),
    (ReminderDeliveryFactory, {"failed": True}, "failed"),
]


@pytest.mark.parametrize(("factory", "traits", "status"), TRAITS, ids=lambda v: getattr(v, "__name__", str(v)))
def test_status_trait_builds_a_stored_row_in_that_status(factory, traits, status):
    row = factory(**traits)
    row.refresh_from_db()
    assert row.status == status


def test_a_used_certificate_code_points_at_a_redemption_of_its_member():
    code = CertificateCodeFactory(assigned=True)
    assert code.redemption.member == code.member
    assert code.redemption.reward == code.reward
    reserved = CertificateCodeFactory(reserved=True)
    assert (reserved.member, reserved.redemption.member) == (None, None)


def test_related_rows_agree_with_each_other():
    anonymous = RewardRedemptionFactory(anonymous=True)
    assert (anonymous.member, anonymous.assigned_at) == (None, None)
    assert ActivationFactory().offer.requires_activation
    delivery = ReminderDeliveryFactory(reminder__channel="email")
    assert (delivery.coupon.series, delivery.channel) == (delivery.reminder.series, "email")
    job = BulkIssueJobFactory(segment__member_count=3)
    assert job.segment.members.count() == 3
