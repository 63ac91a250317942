"""API shapes of revoking coupons and transferring one."""

from rest_framework import serializers

from members.models import Member


class RevokeInputSerializer(serializers.Serializer):
    mode = serializers.ChoiceField(choices=["all_unredeemed", "unissued", "members"])
    members = serializers.ListField(child=serializers.CharField(max_length=64), required=False, max_length=100_000)
    confirm = serializers.BooleanField(required=False, default=False)


class TransferInputSerializer(serializers.Serializer):
    member = serializers.SlugRelatedField(slug_field="external_id", queryset=Member.objects.all())
