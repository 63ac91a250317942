from datetime import date

from django.utils import timezone
from rest_framework import serializers

# The report reads up to the end of `as_of`, so the last day of the calendar cannot be asked for.
AS_OF_RANGE = (date(1900, 1, 1), date(9999, 12, 30))


class IsoDateField(serializers.DateField):
    """`YYYY-MM-DD` in ASCII digits: Django's date parser also takes other scripts' digits."""

    def to_internal_value(self, value):
        if isinstance(value, str) and not value.isascii():
            self.fail("invalid", format="YYYY-MM-DD")
        return super().to_internal_value(value)


class LiabilityQuerySerializer(serializers.Serializer):
    """Give it `query_params.dict()`: from a QueryDict DRF reads an empty value as absent."""

    as_of = IsoDateField(required=False, input_formats=["iso-8601"])
    currency = serializers.RegexField(
        r"^[A-Za-z]{3}$", required=False, max_length=3, error_messages={"invalid": "A three-letter currency code."}
    )

    def validate_as_of(self, value):
        low, high = AS_OF_RANGE
        if not low <= value <= high:
            raise serializers.ValidationError(f"A date from {low} to {high}.")
        return value

    def validate_currency(self, value):
        return value.upper()

    def validate(self, data):
        data.setdefault("as_of", timezone.localdate())
        return data


class SeriesLiabilityOutputSerializer(serializers.Serializer):
    series = serializers.IntegerField()
    series_name = serializers.CharField()
    currency = serializers.CharField(allow_null=True)
    issued_open_count = serializers.IntegerField()
    issued_open_value = serializers.DecimalField(max_digits=20, decimal_places=2)
    redeemed_count = serializers.IntegerField()
    redeemed_value = serializers.DecimalField(max_digits=20, decimal_places=2)
    expired_count = serializers.IntegerField()
    expired_value = serializers.DecimalField(max_digits=20, decimal_places=2)
    revoked_count = serializers.IntegerField()


class PointsLiabilityOutputSerializer(serializers.Serializer):
    outstanding = serializers.IntegerField()
    value = serializers.DecimalField(max_digits=30, decimal_places=2)
    currency = serializers.CharField(allow_null=True)


class LiabilityOutputSerializer(serializers.Serializer):
    as_of = serializers.DateField()
    coupons = SeriesLiabilityOutputSerializer(many=True)
    points = PointsLiabilityOutputSerializer()
