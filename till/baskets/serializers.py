"""API shapes of basket evaluation (and of the basket a checkout opens with)."""

from rest_framework import serializers

from config import ranges
from config.api.fields import AwareDateTimeField
from members.models import Member, OrgEntity
from offers.api.serializers import AwardOutputSerializer
from till.baskets.selectors import BasketLine


class BasketLineInputSerializer(serializers.Serializer):
    line_ref = serializers.CharField(max_length=64)
    sku = serializers.CharField(max_length=64)
    quantity = serializers.IntegerField(**ranges.QUANTITY.bounds)
    unit_price = serializers.DecimalField(**ranges.MONEY.bounds)


class BasketEvaluateInputSerializer(serializers.Serializer):
    member = serializers.SlugRelatedField(slug_field="external_id", queryset=Member.objects.all())
    store = serializers.SlugRelatedField(
        slug_field="code", queryset=OrgEntity.objects.filter(type__in=[OrgEntity.Type.STORE, OrgEntity.Type.TILL])
    )
    at = AwareDateTimeField(required=False, allow_null=True)
    lines = BasketLineInputSerializer(many=True, min_length=ranges.BASKET_LINES.min, max_length=ranges.BASKET_LINES.max)
    coupon_codes = serializers.ListField(
        child=serializers.CharField(max_length=64), max_length=ranges.BASKET_CODES.max, required=False, default=list
    )
    offer_response_ids = serializers.ListField(
        child=serializers.IntegerField(**ranges.OBJECT_ID.bounds),
        max_length=ranges.BASKET_CODES.max,
        required=False,
        default=list,
    )

    def validate_lines(self, lines):
        refs = [line["line_ref"] for line in lines]
        if len(set(refs)) != len(refs):
            raise serializers.ValidationError("Each line_ref may appear once.")
        # The basket's total is a bill and a purchase total once committed: it must fit their columns.
        if sum(line["quantity"] * line["unit_price"] for line in lines) > ranges.MONEY.max:
            raise serializers.ValidationError(f"The basket's total may be at most {ranges.MONEY.max:,}.")
        return lines

    def validate_offer_response_ids(self, ids):
        if len(set(ids)) != len(ids):
            raise serializers.ValidationError("Each offer response may appear once.")
        return ids


def basket_lines(data: dict) -> list[BasketLine]:
    return [BasketLine(**line) for line in data["lines"]]


def basket_record(data: dict) -> dict:
    """The basket as JSON, to keep with the checkout it opened."""
    return {
        "member": data["member"].external_id,
        "store": data["store"].code,
        "at": data["at"].isoformat() if data.get("at") else None,
        "lines": [{**line, "unit_price": f"{line['unit_price']:.2f}"} for line in data["lines"]],
        "coupon_codes": data["coupon_codes"],
        "offer_response_ids": data["offer_response_ids"],
    }


class EvaluatedLineOutputSerializer(serializers.Serializer):
    line_ref = serializers.CharField()
    sku = serializers.CharField()
    quantity = serializers.IntegerField()
    unit_price = serializers.DecimalField(max_digits=14, decimal_places=2)
    amount = serializers.DecimalField(max_digits=20, decimal_places=2)
    discount_amount = serializers.DecimalField(max_digits=20, decimal_places=2)
    points = serializers.IntegerField()


class EvaluatedCouponOutputSerializer(serializers.Serializer):
    code = serializers.CharField()
    applies = serializers.BooleanField()
    reasons = serializers.ListField(child=serializers.CharField())
    discount_amount = serializers.DecimalField(max_digits=20, decimal_places=2)
    line_refs = serializers.ListField(child=serializers.CharField())


class EvaluatedOfferResponseOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    applies = serializers.BooleanField()
    reasons = serializers.ListField(child=serializers.CharField())


class BasketEvaluationOutputSerializer(serializers.Serializer):
    lines = EvaluatedLineOutputSerializer(many=True)
    coupons = EvaluatedCouponOutputSerializer(many=True)
    offer_responses = EvaluatedOfferResponseOutputSerializer(many=True)
    awards = AwardOutputSerializer(many=True)
    total_amount = serializers.DecimalField(max_digits=20, decimal_places=2)
    total_discount = serializers.DecimalField(max_digits=20, decimal_places=2)
    amount_due = serializers.DecimalField(max_digits=20, decimal_places=2)
    total_points = serializers.IntegerField()
