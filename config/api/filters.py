"""Filters the API's FilterSets share."""

import django_filters
from django import forms

from config import ranges


class ObjectIdFilter(django_filters.NumberFilter):
    """A filter by a row's id: a whole number within the id columns' range, or 400 naming the parameter.

    django-filter's NumberFilter reads a decimal, so `1.5` or `-1.8e308` reached the query (an OverflowError on
    SQLite, a 500).
    """

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", ranges.OBJECT_ID.min)
        kwargs.setdefault("max_value", ranges.OBJECT_ID.max)
        super().__init__(*args, **kwargs)
