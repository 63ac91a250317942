"""How the back office shows a time, a status or a code to people: in the program's zone with the zone named, and in
words, with the machine code (where one helps) after them in small type.

The formats themselves live in config/formats (every list, read-only field and template uses them); these are the
same formatters for text built in Python.
"""

import functools
import html
import re
from datetime import datetime

from django.apps import apps
from django.contrib.admin import AllValuesFieldListFilter, ChoicesFieldListFilter, SimpleListFilter
from django.contrib.admin.utils import label_for_field, lookup_field
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils import formats, timezone
from django.utils.html import format_html
from django.utils.module_loading import import_string
from django.utils.safestring import SafeString

from config import text


def datetime_in_zone(value: datetime | None, empty: str = "—") -> str:
    """`value` in the program's time zone with the zone's name: "3 Dec 2026, 09:14 CET"."""
    if value is None:
        return empty
    return formats.date_format(timezone.localtime(value), "DATETIME_FORMAT")


def words_with_code(words: str, code: str | None) -> SafeString:
    """The words, then the machine code in small type (left out when it is the words: "queued" after "Queued")."""
    if not code or str(code).lower() == str(words).lower():
        return format_html("{}", words)
    return format_html('{} <small class="machine-code">{}</small>', words, code)


# A stored code: lower case, with underscores or dots ("missing_required_segments", "coupon.issued").
CODE = re.compile(r"[a-z][a-z0-9]*(?:[_.][a-z0-9]+)*")
# Model fields that hold a code by the names the codebase gives them; other text (names, categories, codes people
# type) is shown as it is.
CODE_FIELD_NAME = re.compile(r"(?:^|_)(?:status|reason|kind|type|mode|action|dataset|state|outcome|channel)$")


@functools.cache
def words_by_code() -> dict[str, str]:
    """Every code the product stores, with its words: the curated words first, then the statuses' and kinds' labels,
    the refusal sentences, the datasets and the kinds of object other systems are told about ("offer_response")."""
    from exports.datasets import registered_datasets

    words = {**text.OFFER_VISIBILITY_WORDS, **text.OFFER_ACTIVATION_WORDS}
    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            for value, label in getattr(field, "flatchoices", None) or ():
                if isinstance(value, str) and CODE.fullmatch(value) and str(label) != value:
                    words.setdefault(value, str(label))
    for sentences in (text.COUPON_REASON_SENTENCES, text.REWARD_REASON_SENTENCES,
                      text.OFFER_ACTION_REASON_SENTENCES, text.POINTS_REASON_SENTENCES):  # fmt: skip
        for code, sentence in sentences.items():
            words.setdefault(code, sentence)
    for dataset in registered_datasets():
        words.setdefault(dataset.name, dataset.label or text.code_as_words(dataset.name))
    for model in apps.get_models():
        snake = re.sub(r"(?<!^)(?=[A-Z])", "_", model.__name__).lower()
        words.setdefault(snake, str(model._meta.verbose_name).capitalize())
    return words


def code_in_words(value, *, channel: bool = False):
    """A stored code as words with the code in small type; anything that is not a known code comes back as it is."""
    if not isinstance(value, str) or isinstance(value, SafeString):
        return value
    if channel and value:
        from audit.selectors import channel_words

        return words_with_code(channel_words(value), value)
    words = words_for(value)
    return words_with_code(words, value) if words else value


def value_in_words(value):
    """A kept value as people read it: yes or no, a time in the program's zone, a code in words."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, str) and (moment := _iso_datetime(value)) is not None:
        return datetime_in_zone(moment)
    return code_in_words(value) if isinstance(value, str) else value


def _iso_datetime(value: str):
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None and "T" in value else None


def status_move_words(old: str, new: str, choices) -> str:
    """A status change in its statuses' labels: "Unused → Redeemed" ("Became Issued" from none)."""
    words = dict(choices)
    return f"{words.get(old, old)} → {words.get(new, new)}" if old else f"Became {words.get(new, new)}"


def words_for(code: str) -> str | None:
    """The words for a known code; an event type reads as its object's words and what happened ("coupon.issued":
    "Coupon issued"). None for anything else."""
    if not CODE.fullmatch(code):
        return None
    words = words_by_code().get(code)
    if words is None and "." in code:
        kind, _, what = code.partition(".")
        if kind in words_by_code():
            words = f"{words_by_code()[kind]} {text.code_as_words(what).lower()}"
    return words


def _holds_code(model_admin, name: str) -> tuple[bool, bool]:
    """(whether the column `name` may show a code, whether it is a channel)."""
    try:
        field = model_admin.model._meta.get_field(name)
    except FieldDoesNotExist:
        return True, False  # a method or property: its plain-text answer is judged by value
    if isinstance(field, models.CharField) and field.choices:
        # choices whose labels are their codes ("coupon.issued") still read as codes
        return all(str(label) == value for value, label in field.flatchoices), False
    if not isinstance(field, models.CharField) or not CODE_FIELD_NAME.search(name):
        return False, False
    return True, name.endswith("channel")


class CodesInWordsMixin:
    """Every code a list or a read-only field would show raw reads as words, with the code after them in small type.

    Statuses and kinds with choices show their labels already; this covers the text columns that store a code
    (an event's statuses, a reason, a channel, a dataset) and the methods that return one.
    """

    @property
    def readonly_preprocess_fields(self):
        return _ReadonlyInWords(self)

    def get_list_display(self, request):
        list_display = super().get_list_display(request)
        keep = {*(self.list_display_links or ()), *(self.list_editable or ()), "__str__", "action_checkbox"}
        return [self._column_in_words(name) if isinstance(name, str) and name not in keep else name
                for name in list_display]  # fmt: skip

    def get_list_filter(self, request):
        return [self._filter_in_words(item) for item in super().get_list_filter(request)]

    def _column_in_words(self, name: str):
        holds, channel = _holds_code(self, name)
        is_field = _is_model_field(self.model, name)
        attr = None if is_field else (getattr(self, name, None) or getattr(self.model, name, None))
        if not holds or any(getattr(attr, flag, False) for flag in ("boolean", "label", "header", "dropdown")):
            return name
        try:
            title = label_for_field(name, self.model, model_admin=self)
        except (AttributeError, FieldDoesNotExist):
            return name

        def column(obj):
            _field, _attr, value = lookup_field(name, obj, self)
            return None if value == "" else code_in_words(value, channel=channel)

        column.__name__ = name
        column.short_description = title
        column.admin_order_field = name if is_field else getattr(attr, "admin_order_field", None)
        if hasattr(attr, "empty_value_display"):
            column.empty_value_display = attr.empty_value_display
        return column

    def _filter_in_words(self, item):
        if isinstance(item, type) and issubclass(item, SimpleListFilter):
            return type(item.__name__, (ChoicesInWordsFilterMixin, item), {"__module__": item.__module__})
        if not isinstance(item, str):
            return item
        holds, channel = _holds_code(self, item)
        if not holds or "__" in item or not _is_model_field(self.model, item):
            return item
        field = self.model._meta.get_field(item)
        if field.choices:
            return (item, CodeChoicesFilter)
        return (item, ChannelValuesFilter if channel else CodeValuesFilter)


def _is_model_field(model, name: str) -> bool:
    try:
        model._meta.get_field(name)
    except FieldDoesNotExist:
        return False
    return True


class _ReadonlyInWords:
    """unfold's readonly_preprocess_fields for every read-only field: its shown contents, through code_in_words."""

    def __init__(self, model_admin):
        self.model_admin = model_admin
        self.declared = getattr(super(CodesInWordsMixin, model_admin), "readonly_preprocess_fields", None) or {}

    def keys(self):
        return self

    def __contains__(self, name):
        return isinstance(name, str)

    def __getitem__(self, name):
        holds, channel = _holds_code(self.model_admin, name)
        declared = self.declared.get(name)

        def preprocess(contents):
            if declared is not None:
                contents = import_string(declared)(contents) if isinstance(declared, str) else declared(contents)
            if not holds or "<" in str(contents):
                return contents
            words = code_in_words(html.unescape("" + contents), channel=channel)
            return words if isinstance(words, SafeString) else contents

        return preprocess


class ChoicesInWordsFilterMixin:
    """A filter whose choices are codes lists them in words."""

    def choices(self, changelist):
        for choice in super().choices(changelist):
            display = choice.get("display")
            if isinstance(display, str) and not isinstance(display, SafeString):
                choice["display"] = words_for(display) or display
            yield choice


class CodeChoicesFilter(ChoicesInWordsFilterMixin, ChoicesFieldListFilter):
    """A filter on choices whose labels are their codes."""


class CodeValuesFilter(AllValuesFieldListFilter):
    """A filter on a text column that stores codes, listing them in words."""

    def choices(self, changelist):
        for choice in super().choices(changelist):
            if isinstance(choice.get("display"), str) and CODE.fullmatch(choice["display"]):
                choice["display"] = self.words(choice["display"])
            yield choice

    def words(self, value: str) -> str:
        return words_for(value) or value


class ChannelValuesFilter(CodeValuesFilter):
    def choices(self, changelist):
        from audit.selectors import channel_words

        for index, choice in enumerate(super(CodeValuesFilter, self).choices(changelist)):
            display = choice.get("display")
            if index and isinstance(display, str) and display != self.empty_value_display:
                choice["display"] = channel_words(display)
            yield choice
