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


class StrictBooleanField(forms.NullBooleanField):
    """`true`/`false` (or `1`/`0`); anything else is an error instead of Django's silent "unknown"."""

    accepted = {"true": True, "1": True, "false": False, "0": False}
    widget = forms.TextInput  # Django's NullBooleanSelect turns what it does not know into "unknown" before cleaning

    def to_python(self, value):
        if value in self.empty_values:
            return None
        try:
            return self.accepted[str(value).lower()]
        except KeyError:
            raise forms.ValidationError("Must be true or false.", code="invalid") from None

    def validate(self, value):
        pass


class StrictBooleanFilter(django_filters.BooleanFilter):
    field_class = StrictBooleanField


class NoBlankParametersMixin:
    """A parameter sent empty (`?status=`) is a 400, not a filter silently left out."""

    def is_valid(self):
        valid = super().is_valid()
        blank = [name for name in self.filters if self.data.get(name) == ""]
        for name in blank:
            self.form.add_error(name, "May not be blank.")
        return valid and not blank
