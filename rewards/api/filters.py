import django_filters

from config.api.filters import ObjectIdFilter
from rewards.models import CertificateCode


class CertificateCodeFilterSet(django_filters.FilterSet):
    code = django_filters.CharFilter()
    status = django_filters.ChoiceFilter(choices=CertificateCode.Status.choices)
    reward = ObjectIdFilter(field_name="reward_id")
    bank = django_filters.BooleanFilter(field_name="reward", lookup_expr="isnull", label="In the bank (no reward)")
    member = django_filters.CharFilter(field_name="member__external_id")

    class Meta:
        model = CertificateCode
        fields = ["code", "status", "reward", "bank", "member"]
