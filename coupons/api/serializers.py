from rest_framework import serializers

from config.api.fields import AwareDateTimeField
from coupons.models import Coupon


class CouponOutputSerializer(serializers.ModelSerializer):
    member = serializers.SlugRelatedField(slug_field="external_id", read_only=True)

    class Meta:
        model = Coupon
        fields = ["id", "code", "series", "member", "status", "issued_at", "expires_at", "redeemable_from",
                  "is_reversed", "last_status_change_on"]  # fmt: skip


# The till's hot path renders its answers with plain functions (ModelSerializer builds its fields on
# every instantiation); the serializers above stay the schema and must list the same fields.


_datetime = AwareDateTimeField()


def iso(moment):
    return _datetime.to_representation(moment) if moment else None


def coupon_body(coupon: Coupon, *, member_external_id: str | None = None) -> dict:
    return {
        "id": coupon.pk, "code": coupon.code, "series": coupon.series_id,
        "member": member_external_id if member_external_id is not None else (
            coupon.member.external_id if coupon.member_id else None),
        "status": coupon.status, "issued_at": iso(coupon.issued_at), "expires_at": iso(coupon.expires_at),
        "redeemable_from": iso(coupon.redeemable_from), "is_reversed": coupon.is_reversed,
        "last_status_change_on": iso(coupon.last_status_change_on),
    }  # fmt: skip
