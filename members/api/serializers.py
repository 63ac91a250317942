import zoneinfo

from rest_framework import serializers

from config import ranges
from config.api.fields import AwareDateTimeField
from members.models import Member, OrgEntity, Segment
from members.validators import validate_external_id, validate_mobile, validate_user_id


class SegmentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Segment
        fields = ["id", "code", "name"]
        extra_kwargs = {"code": {"validators": []}}


class OrgEntityInputSerializer(serializers.Serializer):
    code = serializers.CharField(max_length=64)
    type = serializers.ChoiceField(choices=OrgEntity.Type.choices)
    name = serializers.CharField(max_length=200)
    parent = serializers.SlugRelatedField(
        slug_field="code", queryset=OrgEntity.objects.all(), allow_null=True, required=False, default=None
    )
    concept = serializers.SlugRelatedField(
        slug_field="code", queryset=OrgEntity.objects.all(), allow_null=True, required=False, default=None
    )
    time_zone = serializers.CharField(max_length=64, default="UTC")
    currency = serializers.RegexField(r"^[A-Za-z]{3}$", default="USD")

    def validate_time_zone(self, value):
        if value not in zoneinfo.available_timezones():
            raise serializers.ValidationError(f"Unknown time zone {value!r}.")
        return value


class OrgEntityOutputSerializer(serializers.ModelSerializer):
    parent = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    concept = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)

    class Meta:
        model = OrgEntity
        fields = ["id", "code", "type", "name", "parent", "concept", "time_zone", "currency"]


class MemberInputSerializer(serializers.Serializer):
    external_id = serializers.CharField(max_length=64, validators=[validate_external_id])
    email = serializers.EmailField(required=False, allow_blank=True, default="")
    mobile = serializers.CharField(required=False, allow_blank=True, default="", max_length=16)
    user_id = serializers.CharField(required=False, allow_blank=True, default="", max_length=64)
    first_name = serializers.CharField(required=False, allow_blank=True, default="", max_length=100)
    last_name = serializers.CharField(required=False, allow_blank=True, default="", max_length=100)
    birth_date = serializers.DateField(required=False, allow_null=True, default=None)
    registered_at = AwareDateTimeField(required=False)
    status = serializers.ChoiceField(choices=Member.Status.choices, default=Member.Status.ACTIVE)
    segments = serializers.SlugRelatedField(
        slug_field="code", queryset=Segment.objects.all(), many=True, required=False, default=list
    )
    transaction_count = serializers.IntegerField(**ranges.COUNT.bounds, required=False, default=0)

    def validate_mobile(self, value):
        if value:
            validate_mobile(value)
        return value

    def validate_user_id(self, value):
        if value:
            validate_user_id(value)
        return value


class MemberUpdateSerializer(MemberInputSerializer):
    """PATCH: every field optional and no defaults, so only what is sent changes."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, partial=True, **kwargs)
        for field in self.fields.values():
            field.required = False
            field.default = serializers.empty


class MemberOutputSerializer(serializers.ModelSerializer):
    segments = serializers.SlugRelatedField(slug_field="code", many=True, read_only=True)

    class Meta:
        model = Member
        fields = [
            "id",
            "external_id",
            "email",
            "mobile",
            "user_id",
            "first_name",
            "last_name",
            "birth_date",
            "registered_at",
            "status",
            "segments",
            "transaction_count",
            "points_balance",
        ]


class PointsAdjustInputSerializer(serializers.Serializer):
    points = serializers.IntegerField(**ranges.POINTS_ADJUSTMENT.bounds)
    reason = serializers.CharField(max_length=255)

    def validate_points(self, value):
        if value == 0:
            raise serializers.ValidationError("Points must not be zero.")
        return value


class PointsEntryOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    points = serializers.IntegerField()
    balance_after = serializers.IntegerField()
    kind = serializers.CharField()
    reason = serializers.CharField()
    created_at = AwareDateTimeField()
    points_balance = serializers.IntegerField(source="balance_after")
