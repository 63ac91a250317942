import django_filters

from members.models import Member, OrgEntity


class MemberFilterSet(django_filters.FilterSet):
    segment = django_filters.CharFilter(field_name="segments__code")
    email = django_filters.CharFilter()
    mobile = django_filters.CharFilter()
    user_id = django_filters.CharFilter()

    class Meta:
        model = Member
        fields = ["status", "segment", "email", "mobile", "user_id"]


class OrgEntityFilterSet(django_filters.FilterSet):
    parent = django_filters.CharFilter(field_name="parent__code")

    class Meta:
        model = OrgEntity
        fields = ["type", "parent"]
