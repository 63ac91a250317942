import django_filters
from django.utils import timezone

from offers import rules, selectors
from offers.models import Offer


class OfferFilterSet(django_filters.FilterSet):
    visible_status = django_filters.ChoiceFilter(
        choices=[(status, status) for status in rules.GLOBAL_STATUSES], method="filter_visible_status"
    )
    external_id = django_filters.CharFilter()
    category = django_filters.CharFilter()

    class Meta:
        model = Offer
        fields = ["visible_status", "external_id", "category", "requires_activation"]

    def filter_visible_status(self, queryset, name, value):
        return queryset.filter(selectors.global_status_q(value, at=timezone.now()))


class MembershipOfferFilterSet(django_filters.FilterSet):
    """Validates the membership-offer query; the rows themselves are filtered after the rules ran."""

    visible_status = django_filters.ChoiceFilter(choices=[(status, status) for status in rules.MEMBER_STATUSES])
    eligible = django_filters.BooleanFilter()

    class Meta:
        model = Offer
        fields = []
