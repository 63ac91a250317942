"""Resending an issued coupon to its member with the series' resend template."""

import logging

from config.actors import Actor
from coupons.exceptions import ResendError
from coupons.models import Coupon, CouponResend

DEFAULT_RESEND_TEMPLATE = "Your coupon code is {code}. Valid until {expires_at}."


def render_resend(template: str, coupon: Coupon) -> str:
    values = {
        "code": coupon.code,
        "series": coupon.series.name,
        "first_name": coupon.member.first_name if coupon.member else "",
        "expires_at": f"{coupon.expires_at:%Y-%m-%d}" if coupon.expires_at else "no expiry",
    }
    try:
        return template.format(**values)
    except (KeyError, IndexError, ValueError):
        return template  # an unknown tag is sent as written rather than failing the resend


def coupon_resend(*, coupon: Coupon, actor: Actor) -> CouponResend:
    """Send the member's coupon again by SMS with the series' resend template.

    There is no SMS gateway in the program yet: the message is recorded as a CouponResend row (shown in
    the admin) and logged on the `coupons.sms` logger.
    """
    if coupon.member is None or coupon.status != Coupon.Status.ISSUED:
        raise ResendError("Only an issued coupon can be resent.", reasons=[coupon.status])
    template = coupon.series.resend_sms_template or DEFAULT_RESEND_TEMPLATE
    message = render_resend(template, coupon)
    resend = CouponResend.objects.create(
        coupon=coupon, channel="sms", recipient=coupon.member.mobile or "", message=message,
        actor=actor.name, actor_channel=actor.channel,
    )  # fmt: skip
    logging.getLogger("coupons.sms").info("SMS to %s: %s", resend.recipient or "-", message)
    return resend
