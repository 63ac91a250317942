from rest_framework import serializers

from config.api.fields import AwareDateTimeField
from config.ranges import REWARD_COST
from members.models import Member
from rewards import rules
from rewards.models import CertificateCode, Reward, RewardRedemption


class RewardInputSerializer(serializers.Serializer):
    external_id = serializers.CharField(max_length=64)
    name = serializers.CharField(max_length=200)
    type = serializers.ChoiceField(choices=Reward.Type.choices, default=Reward.Type.CERTIFICATE)
    cost_points = serializers.IntegerField(**REWARD_COST.bounds)
    active = serializers.BooleanField(default=True)


class RewardOutputSerializer(serializers.ModelSerializer):
    codes_unused = serializers.SerializerMethodField(help_text="The reward's own unused codes (bank not counted).")

    class Meta:
        model = Reward
        fields = ["id", "external_id", "name", "type", "cost_points", "active", "created_at", "codes_unused"]

    def get_codes_unused(self, reward) -> int:
        return getattr(reward, "codes_unused", 0)


class CertificateCodeGenerateInputSerializer(serializers.Serializer):
    count = serializers.IntegerField(**rules.COUNT.bounds)
    reward = serializers.PrimaryKeyRelatedField(queryset=Reward.objects.all(), allow_null=True, default=None)
    length = serializers.IntegerField(**rules.LENGTH.bounds, default=10)
    charset = serializers.ChoiceField(choices=sorted(rules.CHARSETS), default="alphanumeric")


class CertificateCodeGenerateOutputSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    reward = serializers.IntegerField(allow_null=True)
    length = serializers.IntegerField()
    charset = serializers.CharField()


class MemberReferenceInputSerializer(serializers.Serializer):
    member = serializers.SlugRelatedField(slug_field="external_id", queryset=Member.objects.all())


class RewardReserveInputSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=RewardRedemption.Kind.choices, default=RewardRedemption.Kind.REDEMPTION)


class RewardRedemptionOutputSerializer(serializers.Serializer):
    """The answer of redeem, award, reserve and assign."""

    redemption_id = serializers.IntegerField(source="pk")
    kind = serializers.CharField()
    reward = serializers.IntegerField(source="reward_id")
    member = serializers.CharField(source="member.external_id", allow_null=True, default=None)
    certificate_code = serializers.CharField(source="certificate_code.code")
    code_status = serializers.CharField(source="certificate_code.status")
    points_spent = serializers.IntegerField()
    points_balance = serializers.IntegerField(source="member.points_balance", allow_null=True, default=None)
    created_at = AwareDateTimeField()
    assigned_at = AwareDateTimeField(allow_null=True)


class CertificateCodeOutputSerializer(serializers.ModelSerializer):
    member = serializers.SlugRelatedField(slug_field="external_id", read_only=True, allow_null=True)

    class Meta:
        model = CertificateCode
        fields = [
            "code",
            "status",
            "reward",
            "member",
            "redemption_id",
            "created_at",
            "status_changed_at",
            "fulfilled_at",
        ]
