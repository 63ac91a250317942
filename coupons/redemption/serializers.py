"""API shapes of the till's validate, redeem and reverse."""

from rest_framework import serializers

from config import ranges
from config.api.fields import AwareDateTimeField
from coupons.api.serializers import CouponOutputSerializer, iso
from coupons.models import CouponRedemption
from members.models import Member, OrgEntity


class RedemptionInputSerializer(serializers.Serializer):
    code = serializers.CharField(max_length=64)
    member = serializers.SlugRelatedField(slug_field="external_id", queryset=Member.objects.all())
    store = serializers.SlugRelatedField(
        slug_field="code", queryset=OrgEntity.objects.filter(type__in=[OrgEntity.Type.STORE, OrgEntity.Type.TILL])
    )
    bill_amount = serializers.DecimalField(**ranges.MONEY.bounds)
    at = AwareDateTimeField(required=False, allow_null=True)


class RedeemInputSerializer(RedemptionInputSerializer):
    transaction_id = serializers.CharField(max_length=100, required=False, allow_blank=True)


class ValidationOutputSerializer(serializers.Serializer):
    valid = serializers.BooleanField()
    reasons = serializers.ListField(child=serializers.CharField())
    coupon = CouponOutputSerializer(allow_null=True)


class RedemptionOutputSerializer(serializers.ModelSerializer):
    redemption_id = serializers.IntegerField(source="pk", read_only=True)
    code = serializers.CharField(source="coupon.code", read_only=True)
    member = serializers.SlugRelatedField(slug_field="external_id", read_only=True)
    store = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = CouponRedemption
        fields = ["redemption_id", "code", "member", "store", "redeemed_at", "bill_amount", "discount_amount",
                  "currency", "transaction_id", "is_reversed", "reversed_at"]  # fmt: skip


def redemption_body(row: CouponRedemption, *, code: str, member: str, store: str) -> dict:
    return {
        "redemption_id": row.pk, "code": code, "member": member, "store": store,
        "redeemed_at": iso(row.redeemed_at), "bill_amount": f"{row.bill_amount:.2f}",
        "discount_amount": f"{row.discount_amount:.2f}", "currency": row.currency,
        "transaction_id": row.transaction_id, "is_reversed": row.is_reversed, "reversed_at": iso(row.reversed_at),
    }  # fmt: skip
