"""API shapes of issuing a coupon and of code uploads."""

from rest_framework import serializers

from coupons.models import Upload
from members.models import Member


class CouponIssueInputSerializer(serializers.Serializer):
    member = serializers.SlugRelatedField(slug_field="external_id", queryset=Member.objects.all())


class UploadInputSerializer(serializers.Serializer):
    file = serializers.FileField()
    kind = serializers.ChoiceField(choices=Upload.Kind.choices)


class UploadOutputSerializer(serializers.ModelSerializer):
    error_report_url = serializers.SerializerMethodField()

    class Meta:
        model = Upload
        fields = ["id", "series", "kind", "status", "total_rows", "processed_rows", "succeeded", "failed",
                  "error", "error_report_url", "created_at", "finished_at"]  # fmt: skip

    def get_error_report_url(self, upload) -> str | None:
        if not upload.failed:
            return None
        request = self.context.get("request")
        path = f"/api/v1/uploads/{upload.pk}/error-report"
        return request.build_absolute_uri(path) if request else path
