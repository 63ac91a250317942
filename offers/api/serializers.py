import re
from datetime import datetime
from decimal import Decimal
from functools import cached_property

from django.db import connection
from django.utils import timezone
from drf_spectacular.extensions import OpenApiSerializerExtension
from rest_framework import serializers
from rest_framework.fields import empty

from config import ranges
from config.api.fields import AwareDateTimeField
from config.api.lean import validate_fields
from config.rawrows import ModelColumns
from members.models import Member, OrgEntity, Segment
from offers import rules
from offers.models import Audience, EarningMechanism, MarketingContent, Offer, OfferLimit


class BehaviorSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=EarningMechanism.Behavior.choices)
    sku = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")
    min_quantity = serializers.IntegerField(
        **ranges.POSITIVE_COUNT.bounds, required=False, allow_null=True, default=None
    )
    min_amount = serializers.DecimalField(**ranges.MONEY.bounds, required=False, allow_null=True, default=None)

    def validate(self, attrs):
        if attrs["type"] == EarningMechanism.Behavior.PURCHASE_PRODUCT and not attrs.get("sku"):
            raise serializers.ValidationError({"sku": ["A purchase_product behavior needs a sku."]})
        if attrs["type"] == EarningMechanism.Behavior.SPEND and attrs.get("min_amount") is None:
            raise serializers.ValidationError({"min_amount": ["A spend behavior needs a min_amount."]})
        return attrs


class AwardSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=EarningMechanism.Award.choices)
    points = serializers.IntegerField(**ranges.AWARD_POINTS.bounds, required=False, allow_null=True, default=None)
    points_per_unit = serializers.IntegerField(
        **ranges.AWARD_POINTS.bounds, required=False, allow_null=True, default=None
    )

    def validate(self, attrs):
        needed = "points" if attrs["type"] == EarningMechanism.Award.POINTS else "points_per_unit"
        if attrs.get(needed) is None:
            raise serializers.ValidationError({needed: [f"A {attrs['type']} award needs {needed}."]})
        return attrs


class EarningMechanismSerializer(serializers.Serializer):
    behavior = BehaviorSerializer()
    award = AwardSerializer()

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        behavior, award = value["behavior"], value["award"]
        return {
            "behavior_type": behavior["type"],
            "sku": behavior.get("sku", ""),
            "min_quantity": behavior.get("min_quantity"),
            "min_amount": behavior.get("min_amount"),
            "award_type": award["type"],
            "points": award.get("points"),
            "points_per_unit": award.get("points_per_unit"),
        }

    def to_representation(self, mechanism):
        behavior = {"type": mechanism.behavior_type}
        if mechanism.behavior_type == EarningMechanism.Behavior.PURCHASE_PRODUCT:
            behavior.update(sku=mechanism.sku, min_quantity=mechanism.min_quantity)
        else:
            behavior["min_amount"] = None if mechanism.min_amount is None else str(mechanism.min_amount)
        award = {"type": mechanism.award_type}
        if mechanism.award_type == EarningMechanism.Award.POINTS:
            award["points"] = mechanism.points
        else:
            award["points_per_unit"] = mechanism.points_per_unit
        return {"behavior": behavior, "award": award}


class AudienceSerializer(serializers.ModelSerializer):
    segment = serializers.SlugRelatedField(
        slug_field="code", queryset=Segment.objects.all(), required=False, allow_null=True, default=None
    )
    min_age = serializers.IntegerField(**ranges.AGE.bounds, required=False, allow_null=True, default=None)
    max_age = serializers.IntegerField(**ranges.AGE.bounds, required=False, allow_null=True, default=None)

    class Meta:
        model = Audience
        fields = ["type", "min_age", "max_age", "segment"]

    def validate(self, attrs):
        if attrs["type"] == Audience.Type.SEGMENT:
            if attrs.get("segment") is None:
                raise serializers.ValidationError({"segment": ["A segment audience needs a segment code."]})
            attrs["min_age"] = attrs["max_age"] = None
        else:
            low, high = attrs.get("min_age"), attrs.get("max_age")
            if low is None and high is None:
                raise serializers.ValidationError({"min_age": ["An age audience needs min_age or max_age."]})
            if low is not None and high is not None and high < low:
                raise serializers.ValidationError({"max_age": ["max_age must not be below min_age."]})
            attrs["segment"] = None
        return attrs

    def to_representation(self, audience):
        if audience.type == Audience.Type.SEGMENT:
            return {"type": audience.type, "segment": audience.segment.code}
        return {"type": audience.type, "min_age": audience.min_age, "max_age": audience.max_age}


class LimitSerializer(serializers.ModelSerializer):
    max_count = serializers.IntegerField(**ranges.COUNT.bounds)
    used_count = serializers.IntegerField(
        read_only=True, allow_null=True, help_text="Uses counted so far; null for a member limit (counted per member)."
    )

    class Meta:
        model = OfferLimit
        fields = ["scope", "kind", "max_count", "used_count"]

    def to_representation(self, limit):
        data = super().to_representation(limit)
        if limit.scope == OfferLimit.Scope.MEMBER:
            data["used_count"] = None
        return data


class MarketingContentSerializer(serializers.ModelSerializer):
    class Meta:
        model = MarketingContent
        fields = ["locale", "title", "description", "image_url"]
        extra_kwargs = {"description": {"required": False}, "image_url": {"required": False}}


COMPONENTS = ("earning_mechanism", "audiences", "limits", "marketing_contents")


def component_list_errors(attrs) -> dict:
    errors = {}
    pairs = [(limit["scope"], limit["kind"]) for limit in attrs.get("limits", [])]
    if len(pairs) != len(set(pairs)):
        errors["limits"] = ["At most one limit per scope and kind."]
    locales = [content["locale"] for content in attrs.get("marketing_contents", [])]
    if len(locales) != len(set(locales)):
        errors["marketing_contents"] = ["At most one marketing content per locale."]
    return errors


class OfferComponentsSerializer(serializers.Serializer):
    """The components sent in a PATCH, each validated in full (a PATCH replaces whole components)."""

    earning_mechanism = EarningMechanismSerializer(required=False, allow_null=True)
    audiences = AudienceSerializer(many=True, required=False)
    limits = LimitSerializer(many=True, required=False)
    marketing_contents = MarketingContentSerializer(many=True, required=False)

    def validate(self, attrs):
        errors = component_list_errors(attrs)
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


class OfferInputSerializer(serializers.Serializer):
    external_id = serializers.CharField(max_length=64)
    name = serializers.CharField(max_length=200)
    category = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    publish_at = AwareDateTimeField(required=False, allow_null=True, default=None)
    expire_at = AwareDateTimeField(required=False, allow_null=True, default=None)
    usage_start = AwareDateTimeField(required=False, allow_null=True, default=None)
    usage_end = AwareDateTimeField(required=False, allow_null=True, default=None)
    requires_activation = serializers.BooleanField(required=False, default=False)
    allow_multiple_responses = serializers.BooleanField(required=False, default=False)
    fulfillment_flow = serializers.ChoiceField(
        choices=Offer.FulfillmentFlow.choices, required=False, default=Offer.FulfillmentFlow.STANDARD
    )
    earning_mechanism = EarningMechanismSerializer(required=False, allow_null=True, default=None)
    audiences = AudienceSerializer(many=True, required=False, default=list)
    limits = LimitSerializer(many=True, required=False, default=list)
    marketing_contents = MarketingContentSerializer(many=True, required=False, default=list)

    def validate(self, attrs):
        def current(name):
            if name in attrs:
                return attrs[name]
            return getattr(self.instance, name, None)

        errors = component_list_errors(attrs)
        if current("publish_at") and current("expire_at") and current("expire_at") <= current("publish_at"):
            errors["expire_at"] = ["expire_at must be after publish_at."]
        if current("usage_start") and current("usage_end") and current("usage_end") <= current("usage_start"):
            errors["usage_end"] = ["usage_end must be after usage_start."]
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


class OfferUpdateSerializer(OfferInputSerializer):
    """PATCH: only what is sent changes; a component sent replaces that component as a whole."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, partial=True, **kwargs)
        for name in COMPONENTS:
            self.fields.pop(name)
        for field in self.fields.values():
            field.required = False
            field.default = serializers.empty

    def validate(self, attrs):
        attrs = super().validate(attrs)
        sent = self.initial_data if isinstance(self.initial_data, dict) else {}
        components = OfferComponentsSerializer(data={name: sent[name] for name in COMPONENTS if name in sent})
        if not components.is_valid():
            raise serializers.ValidationError(components.errors)
        return {**attrs, **components.validated_data}


class OfferOutputSerializer(serializers.ModelSerializer):
    earning_mechanism = serializers.SerializerMethodField()
    audiences = AudienceSerializer(many=True, read_only=True, source="audience_rows")
    limits = LimitSerializer(many=True, read_only=True, source="limit_rows")
    marketing_contents = MarketingContentSerializer(many=True, read_only=True, source="marketing_content_rows")
    discontinued = serializers.SerializerMethodField()
    usage_always = serializers.BooleanField(source="usage_is_always", read_only=True)
    visible_status = serializers.SerializerMethodField()
    activation_status = serializers.SerializerMethodField()

    class Meta:
        model = Offer
        fields = [
            "id",
            "external_id",
            "name",
            "category",
            "publish_at",
            "expire_at",
            "usage_start",
            "usage_end",
            "usage_always",
            "requires_activation",
            "allow_multiple_responses",
            "fulfillment_flow",
            "discontinued",
            "discontinued_at",
            "visible_status",
            "activation_status",
            "earning_mechanism",
            "audiences",
            "limits",
            "marketing_contents",
            "created_at",
            "updated_at",
        ]

    def get_earning_mechanism(self, offer) -> dict | None:
        mechanism = getattr(offer, "earning_mechanism", None)
        return self._mechanism_serializer.to_representation(mechanism) if mechanism else None

    @cached_property
    def _mechanism_serializer(self):
        # One for every row of a list: building a ModelSerializer's fields costs more than rendering a row.
        return EarningMechanismSerializer()

    def get_discontinued(self, offer) -> bool:
        return offer.discontinued_at is not None

    def get_visible_status(self, offer) -> str:
        from offers.selectors import offer_global_visible_status

        return offer_global_visible_status(offer, at=self.context.get("at"))

    def get_activation_status(self, offer) -> str:
        return rules.activation_status(requires_activation=offer.requires_activation)


class MembershipOfferFieldsSerializer(OfferOutputSerializer):
    """The offer's own fields in a membership-offer: its global statuses give way to the member's, so they are
    not worked out at all."""

    class Meta(OfferOutputSerializer.Meta):
        fields = [
            name for name in OfferOutputSerializer.Meta.fields if name not in ("visible_status", "activation_status")
        ]


class MembershipOfferOutputSerializer(serializers.Serializer):
    """The offer, plus the member's visible_status, eligible, activation and fulfillment count.

    One flat object (the offer's fields and the member's), documented as `MembershipOfferRowSerializer`.
    """

    id = serializers.IntegerField()
    member = serializers.CharField(source="member.external_id")
    visible_status = serializers.ChoiceField(choices=rules.MEMBER_STATUSES, source="state.visible_status")
    eligible = serializers.BooleanField(source="state.eligible")
    activation_status = serializers.ChoiceField(
        choices=rules.MEMBER_ACTIVATION_STATUSES, source="state.activation_status"
    )
    fulfillment_count = serializers.IntegerField(source="state.fulfillment_count")
    must_activate = serializers.BooleanField(source="state.must_activate")
    activated = serializers.BooleanField(source="state.activated", allow_null=True)
    offer = MembershipOfferFieldsSerializer()

    def to_representation(self, row):
        data = super().to_representation(row)
        return {**data.pop("offer"), **data}


class MembershipOfferRowSerializer(OfferOutputSerializer):
    """What `MembershipOfferOutputSerializer` answers, for the schema: the offer's fields, with the member's
    statuses in place of the global ones."""

    member = serializers.CharField()
    visible_status = serializers.ChoiceField(choices=rules.MEMBER_STATUSES)
    eligible = serializers.BooleanField()
    activation_status = serializers.ChoiceField(choices=rules.MEMBER_ACTIVATION_STATUSES)
    fulfillment_count = serializers.IntegerField()
    must_activate = serializers.BooleanField(help_text="Deprecated: read activation_status.")
    activated = serializers.BooleanField(allow_null=True, help_text="Deprecated: read activation_status.")

    class Meta(OfferOutputSerializer.Meta):
        fields = [*OfferOutputSerializer.Meta.fields, "member", "eligible", "fulfillment_count", "must_activate",
                  "activated"]  # fmt: skip


class MembershipOfferRowExtension(OpenApiSerializerExtension):
    target_class = MembershipOfferOutputSerializer

    def map_serializer(self, auto_schema, direction):
        return auto_schema._map_serializer(MembershipOfferRowSerializer, direction)

    def get_name(self, auto_schema, direction):
        return "MembershipOfferOutput"


class BasketItemSerializer(serializers.Serializer):
    sku = serializers.CharField(max_length=64)
    quantity = serializers.IntegerField(**ranges.QUANTITY.bounds)
    unit_price = serializers.DecimalField(**ranges.MONEY.bounds)


class TransactionInputSerializer(serializers.Serializer):
    transaction_id = serializers.CharField(max_length=100)
    member = serializers.SlugRelatedField(slug_field="external_id", queryset=Member.objects.all())
    store = serializers.SlugRelatedField(
        slug_field="code", queryset=OrgEntity.objects.filter(type__in=[OrgEntity.Type.STORE, OrgEntity.Type.TILL])
    )
    occurred_at = AwareDateTimeField(required=False)
    total_amount = serializers.DecimalField(**ranges.MONEY.bounds)
    items = BasketItemSerializer(many=True, required=False, default=list)


_SKU_MAX = BasketItemSerializer._declared_fields["sku"].max_length
_WHOLE_DIGITS = ranges.MONEY.max_digits - ranges.MONEY.decimal_places
_PRICE = re.compile(rf"[0-9]{{1,{_WHOLE_DIGITS}}}(\.[0-9]{{1,{ranges.MONEY.decimal_places}}})?")
_CENT = Decimal(1).scaleb(-ranges.MONEY.decimal_places)
_STORE_TYPES = (OrgEntity.Type.STORE, OrgEntity.Type.TILL)


def transaction_input(data) -> dict:
    """The validated data of `TransactionInputSerializer`: checked plainly when the body is plainly valid
    (`plain_transaction`), else by the serializer, which then answers every error with its own messages."""
    values = plain_transaction(data)
    if values is None:
        serializer = TransactionInputSerializer(data=data)
        serializer.is_valid(raise_exception=True)
        values = serializer.validated_data
    return values


def plain_transaction(data) -> dict | None:
    """What `TransactionInputSerializer` would validate, when the body is plainly valid: its scalar fields pass
    their own field definitions, its items are plain (`plain_items`) and the member and store it names exist;
    None otherwise (the serializer decides). A till's purchase takes this path: a 20-line purchase through
    DRF's nested serializer cost a third of recording it."""
    if type(data) is not dict:
        return None
    values, errors = validate_fields(TransactionInputSerializer, data, skip=("member", "store", "items"))
    items = plain_items(data.get("items", empty))
    member_id, store_code = data.get("member"), data.get("store")
    if errors or items is None or not (_plain_slug(member_id) and _plain_slug(store_code)):
        return None
    member, store = _member_and_store(member_id, store_code)
    if store is None:
        return None
    values.update(member=member, store=store, items=items)
    return {name: values[name] for name in TransactionInputSerializer._declared_fields if name in values}


_MEMBER_COLUMNS, _STORE_COLUMNS = ModelColumns(Member, "m"), ModelColumns(OrgEntity, "s")
_MEMBER_AND_STORE = (
    f"SELECT {_MEMBER_COLUMNS.sql}, {_STORE_COLUMNS.sql} FROM {Member._meta.db_table} m "
    f"LEFT JOIN {OrgEntity._meta.db_table} s ON s.code = %s AND s.type IN (%s, %s) WHERE m.external_id = %s"
)


def _member_and_store(external_id: str, store_code: str):
    """The member and the store (or till) a purchase names, in one statement (both slug fields are unique): the
    two look-ups through the ORM cost a purchase two round trips and their querysets' compiling. None for one
    missing (the store is None too when the member is)."""
    with connection.cursor() as cursor:
        cursor.execute(_MEMBER_AND_STORE, [store_code, *_STORE_TYPES, external_id])
        row = cursor.fetchone()
    if row is None:
        return None, None
    return _MEMBER_COLUMNS.build(row), _STORE_COLUMNS.build(row, _MEMBER_COLUMNS.width)


def plain_items(value) -> list[dict] | None:
    """The items as `BasketItemSerializer(many=True)` would give them, when every item is plainly valid (a plain
    ASCII SKU without surrounding spaces, a whole quantity in range, a price as decimal text or a whole number);
    no items at all is an empty list, as the field's default. None otherwise."""
    if value is empty:
        return []
    if type(value) is not list:
        return None
    items = []
    for item in value:
        if type(item) is not dict:
            return None
        sku, quantity, price = item.get("sku"), item.get("quantity"), item.get("unit_price")
        if not (_plain_text(sku) and type(quantity) is int and quantity in ranges.QUANTITY):
            return None
        if type(price) is int and price >= 0:
            price = str(price)
        if type(price) is not str or not _PRICE.fullmatch(price):
            return None
        items.append({"sku": sku, "quantity": quantity, "unit_price": Decimal(price).quantize(_CENT)})
    return items


def _plain_text(value) -> bool:
    return (
        type(value) is str
        and 0 < len(value) <= _SKU_MAX
        and value.isascii()
        and value.isprintable()
        and value == value.strip()
    )


def _plain_slug(value) -> bool:
    """Text a slug field looks up as it is (printable: no NUL or lone surrogate the database would refuse)."""
    return type(value) is str and value != "" and value.isprintable()


class AwardOutputSerializer(serializers.Serializer):
    offer_id = serializers.IntegerField()
    points = serializers.IntegerField()


class TransactionOutputSerializer(serializers.Serializer):
    transaction_id = serializers.CharField()
    awards = AwardOutputSerializer(many=True)
    points_balance = serializers.IntegerField()


# The member's offers list renders hundreds of rows a page: built as plain dicts, the same answer as
# `MembershipOfferOutputSerializer` (held to it by tests/offers/test_membership_offer_bodies.py) at a fraction
# of a nested serializer's cost per row. The serializer stays for the detail endpoint and the schema.
_datetime = serializers.DateTimeField().to_representation
_mechanism = EarningMechanismSerializer().to_representation
_audience = AudienceSerializer().to_representation


def _zoned_datetime(value, zone) -> str | None:
    """`_datetime(value)` (ISO 8601 in the current zone, UTC written Z) with the zone looked up once a page:
    a page writes some 3,000 of them. Anything but an aware datetime in range goes to DRF's field."""
    if type(value) is not datetime or value.tzinfo is None:
        return _datetime(value)
    try:
        text = value.astimezone(zone).isoformat()
    except OverflowError:
        return _datetime(value)
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def membership_offer_bodies(rows) -> list[dict]:
    """A page of the member's offers list."""
    zone = timezone.get_current_timezone()
    return [membership_offer_body(row, zone=zone) for row in rows]


def membership_offer_body(row, *, zone=None) -> dict:
    return {**membership_offer_fields(row.offer, zone=zone), **membership_offer_member_fields(row.member, row.state)}


def membership_offer_fields(offer, *, zone=None) -> dict:
    """The offer's own fields of a membership-offer (the same for every member, but for the global limits'
    `used_count`, which moves with every award)."""
    mechanism = getattr(offer, "earning_mechanism", None)
    zone = zone or timezone.get_current_timezone()
    return {
        "id": offer.pk,
        "external_id": offer.external_id,
        "name": offer.name,
        "category": offer.category,
        "publish_at": _zoned_datetime(offer.publish_at, zone),
        "expire_at": _zoned_datetime(offer.expire_at, zone),
        "usage_start": _zoned_datetime(offer.usage_start, zone),
        "usage_end": _zoned_datetime(offer.usage_end, zone),
        "usage_always": offer.usage_is_always,
        "requires_activation": offer.requires_activation,
        "allow_multiple_responses": offer.allow_multiple_responses,
        "fulfillment_flow": offer.fulfillment_flow,
        "discontinued": offer.discontinued_at is not None,
        "discontinued_at": _zoned_datetime(offer.discontinued_at, zone),
        "earning_mechanism": _mechanism(mechanism) if mechanism else None,
        "audiences": [_audience(audience) for audience in offer.audience_rows],
        "limits": [
            {
                "scope": limit.scope,
                "kind": limit.kind,
                "max_count": limit.max_count,
                "used_count": None if limit.scope == OfferLimit.Scope.MEMBER else limit.used_count,
            }
            for limit in offer.limit_rows
        ],
        "marketing_contents": [
            {
                "locale": content.locale,
                "title": content.title,
                "description": content.description,
                "image_url": content.image_url,
            }
            for content in offer.marketing_content_rows
        ],
        "created_at": _zoned_datetime(offer.created_at, zone),
        "updated_at": _zoned_datetime(offer.updated_at, zone),
    }


def membership_offer_member_fields(member, state) -> dict:
    """The member's fields of a membership-offer, after the offer's."""
    return {
        "member": member.external_id,
        "visible_status": state.visible_status,
        "eligible": state.eligible,
        "activation_status": state.activation_status,
        "fulfillment_count": state.fulfillment_count,
        "must_activate": state.must_activate,
        "activated": state.activated,
    }


def membership_offer_page_json(paginator, rows) -> bytes:
    """A page of the member's offers list already written as JSON (`member_view_cache.MemberOfferPages`) in the
    paginator's envelope, as DRF's renderer would write `paginator.get_paginated_response(bodies)`."""
    from offers.member_view_cache import json_text

    envelope = json_text(paginator.get_paginated_response([]).data).encode()
    if not envelope.endswith(b"[]}"):
        raise ValueError("the page's results are not the envelope's last field")
    return b"".join((envelope[:-2], b",".join(rows), b"]}"))
