"""One row of each append-only table, made the way the product makes it (or as close as one row needs)."""

from decimal import Decimal

from audit.models import AuditEvent
from audit.services import audit_record
from config.actors import Actor
from coupons.models import CouponEvent, CouponRedemption
from exports.models import ExportRun, ExportRunEvent
from members.models import PointsEntry
from members.services import points_adjust
from offers.models import OfferEvent, OfferResponse, OfferResponseEvent
from rewards.models import CertificateCodeEvent, RewardRedemption
from tests.coupons.factories import CouponFactory
from tests.exports.factories import ExportDefinitionFactory
from tests.members.factories import MemberFactory, OrgEntityFactory
from tests.offers.factories import OfferFactory
from tests.rewards.factories import CertificateCodeFactory, RewardFactory

ACTOR = Actor(name="maria", channel="admin")


def _points_entry():
    return points_adjust(member=MemberFactory(), points=10, reason="welcome", actor=ACTOR)


def _offer_event():
    return OfferEvent.objects.create(offer=OfferFactory(), kind="created", actor="t", channel="test")


def _offer_response_event():
    response = OfferResponse.objects.create(member=MemberFactory(), offer=OfferFactory())
    return OfferResponseEvent.objects.create(response=response, to_status="pending", actor="t", channel="test")


def _certificate_code_event():
    code = CertificateCodeFactory()
    return CertificateCodeEvent.objects.create(
        certificate_code=code, old_status="unused", new_status="redeemed", actor="t", channel="test"
    )


def _reward_redemption():
    return RewardRedemption.objects.create(reward=RewardFactory(), kind="redemption", actor="t", channel="test")


def _export_run_event():
    run = ExportRun.objects.create(definition=ExportDefinitionFactory(), actor="t", channel="test")
    return ExportRunEvent.objects.create(run=run, new_status="queued", actor="t", channel="test")


def _coupon_event():
    return CouponEvent.objects.create(coupon=CouponFactory(), new_status="issued", actor="t", channel="test")


def _coupon_redemption():
    coupon = CouponFactory()
    return CouponRedemption.objects.create(
        coupon=coupon,
        series=coupon.series,
        member=coupon.member,
        store=OrgEntityFactory(type="store"),
        bill_amount=Decimal("20.00"),
        discount_amount=Decimal("2.00"),
        currency="USD",
        actor="t",
        channel="test",
    )


def _audit_event():
    return audit_record(actor=ACTOR, action=AuditEvent.Action.UPDATE, obj=MemberFactory(), summary="t")


MAKERS = {
    PointsEntry: _points_entry,
    OfferEvent: _offer_event,
    OfferResponseEvent: _offer_response_event,
    CertificateCodeEvent: _certificate_code_event,
    RewardRedemption: _reward_redemption,
    ExportRunEvent: _export_run_event,
    CouponEvent: _coupon_event,
    CouponRedemption: _coupon_redemption,
    AuditEvent: _audit_event,
}
