import django_filters
from django.utils import timezone

from config.api.filters import NoBlankParametersMixin, ObjectIdFilter, StrictBooleanFilter
from offers import rules, selectors
from offers.models import Offer, OfferResponse
from offers.responses import selectors as response_selectors


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


class MembershipOfferFilterSet(NoBlankParametersMixin, django_filters.FilterSet):
    """Validates the membership-offer query; the rows themselves are filtered after the rules ran."""

    visible_status = django_filters.ChoiceFilter(choices=[(status, status) for status in rules.MEMBER_STATUSES])
    eligible = StrictBooleanFilter()

    class Meta:
        model = Offer
        fields = []


class OfferResponseFilterSet(django_filters.FilterSet):
    offer = ObjectIdFilter(field_name="offer_id")
    member = django_filters.CharFilter(field_name="member__external_id")
    status = django_filters.ChoiceFilter(choices=OfferResponse.Status.choices)
    source = django_filters.ChoiceFilter(choices=OfferResponse.Source.choices)
    certificate_code = django_filters.CharFilter()

    class Meta:
        model = OfferResponse
        fields = ["offer", "member", "status", "source", "certificate_code"]


class MemberOfferResponseFilterSet(django_filters.FilterSet):
    # a choice rather than a BooleanFilter, so `?usable=maybe` is a 400 rather than silently ignored
    usable = django_filters.ChoiceFilter(choices=[("true", "true"), ("false", "false")], method="filter_usable")
    status = django_filters.ChoiceFilter(choices=OfferResponse.Status.choices)
    offer = ObjectIdFilter(field_name="offer_id")

    class Meta:
        model = OfferResponse
        fields = ["usable", "status", "offer"]

    def filter_usable(self, queryset, name, value):
        condition = response_selectors.usable_q(at=timezone.now())
        return queryset.filter(condition) if value == "true" else queryset.exclude(condition)
