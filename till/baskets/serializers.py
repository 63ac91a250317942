"""API shapes of basket evaluation (and of the basket a checkout opens with)."""

import re
from decimal import Decimal

from rest_framework import serializers
from rest_framework.fields import empty

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
        return lines_check(lines)

    def validate_offer_response_ids(self, ids):
        return offer_response_ids_check(ids)


def lines_check(lines: list[dict]) -> list[dict]:
    """The basket's own rules over its lines, once each line is valid."""
    refs = [line["line_ref"] for line in lines]
    if len(set(refs)) != len(refs):
        raise serializers.ValidationError("Each line_ref may appear once.")
    # The basket's total is a bill and a purchase total once committed: it must fit their columns.
    if sum(line["quantity"] * line["unit_price"] for line in lines) > ranges.MONEY.max:
        raise serializers.ValidationError(f"The basket's total may be at most {ranges.MONEY.max:,}.")
    return lines


def offer_response_ids_check(ids: list[int]) -> list[int]:
    if len(set(ids)) != len(ids):
        raise serializers.ValidationError("Each offer response may appear once.")
    return ids


_TEXT_MAX = BasketLineInputSerializer._declared_fields["sku"].max_length
_WHOLE_DIGITS = ranges.MONEY.max_digits - ranges.MONEY.decimal_places
_PRICE = re.compile(rf"[0-9]{{1,{_WHOLE_DIGITS}}}(\.[0-9]{{1,{ranges.MONEY.decimal_places}}})?")
_CENT = Decimal(1).scaleb(-ranges.MONEY.decimal_places)


def plain_lines(value) -> list[dict] | None:
    """The lines as `BasketLineInputSerializer(many=True)` would give them, when every line is plainly valid
    (text fields plain ASCII without surrounding spaces, whole quantities in range, prices as decimal text or
    whole numbers); None otherwise, and the serializer then decides, with its own messages. A till's basket
    takes this path: a 30-line basket through DRF's nested serializer cost more than pricing it."""
    if type(value) is not list or not ranges.BASKET_LINES.min <= len(value) <= ranges.BASKET_LINES.max:
        return None
    lines = []
    for line in value:
        if type(line) is not dict:
            return None
        ref, sku, quantity, price = line.get("line_ref"), line.get("sku"), line.get("quantity"), line.get("unit_price")
        if not (_plain_text(ref) and _plain_text(sku) and type(quantity) is int and quantity in ranges.QUANTITY):
            return None
        if type(price) is int and price >= 0:
            price = str(price)
        if type(price) is not str or not _PRICE.fullmatch(price):
            return None
        lines.append({"line_ref": ref, "sku": sku, "quantity": quantity, "unit_price": Decimal(price).quantize(_CENT)})
    return lines


def plain_coupon_codes(value) -> list[str] | None:
    """`coupon_codes` as the input serializer's field gives it, when absent or a short list of plain codes;
    None otherwise (the field decides)."""
    if value is empty:
        return []
    if type(value) is not list or len(value) > ranges.BASKET_CODES.max or not all(map(_plain_text, value)):
        return None
    return list(value)


def plain_offer_response_ids(value) -> list[int] | None:
    """`offer_response_ids` as the input serializer's field gives it, when absent or a short list of ids in range;
    None otherwise (the field decides)."""
    if value is empty:
        return []
    if type(value) is not list or len(value) > ranges.BASKET_CODES.max:
        return None
    if not all(type(item) is int and item in ranges.OBJECT_ID for item in value):
        return None
    return list(value)


def _plain_text(value) -> bool:
    return (
        type(value) is str
        and 0 < len(value) <= _TEXT_MAX
        and value.isascii()
        and value.isprintable()
        and value == value.strip()
    )


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
