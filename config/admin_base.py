"""The admin classes every app's admin builds on: unfold's look, with django-import-export's forms styled to match.

Apps import their ModelAdmin and inline bases from here, never from django.contrib.admin or unfold directly, so
the whole back office changes theme, defaults or behaviour in one place.
"""

import re

from django.core.exceptions import ValidationError
from import_export.admin import ExportMixin, ImportExportMixin
from unfold.admin import ModelAdmin as UnfoldModelAdmin
from unfold.admin import StackedInline as UnfoldStackedInline
from unfold.admin import TabularInline as UnfoldTabularInline
from unfold.contrib.import_export.forms import ExportForm, ImportForm
from unfold.mixins import DatasetModelAdminMixin

from config.admin_display import CodesInWordsMixin
from config.constraint_sentences import constraint_message

# Django's own wording for a violated check (or conditional unique) constraint.
CONSTRAINT_VIOLATED = re.compile(r"^Constraint “(?P<name>[^”]+)” is violated\.$")


def constraint_errors_in_words(error: ValidationError) -> ValidationError:
    """`error` with each "Constraint … is violated." replaced by the constraint's sentence."""
    if hasattr(error, "error_dict"):
        return ValidationError({field: [constraint_errors_in_words(item) for item in items]
                                for field, items in error.error_dict.items()})  # fmt: skip
    if len(error.error_list) != 1 or error.error_list[0] is not error:
        return ValidationError([constraint_errors_in_words(item) for item in error.error_list])
    match = CONSTRAINT_VIOLATED.match(str(error.message % error.params if error.params else error.message))
    return ValidationError(constraint_message(match["name"]), code="constraint") if match else error


class ConstraintSentencesFormMixin:
    def _update_errors(self, errors):
        super()._update_errors(constraint_errors_in_words(errors))


def with_constraint_sentences(form_class):
    if issubclass(form_class, ConstraintSentencesFormMixin):
        return form_class
    return type(form_class.__name__, (ConstraintSentencesFormMixin, form_class), {"__module__": form_class.__module__})


class ConstraintSentencesAdminMixin:
    """Every form of the admin (its own and its inlines') speaks of a violated constraint in words."""

    def get_form(self, request, obj=None, change=False, **kwargs):
        return with_constraint_sentences(super().get_form(request, obj, change=change, **kwargs))


class ConstraintSentencesInlineMixin:
    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        formset.form = with_constraint_sentences(formset.form)
        return formset


class DatasetFieldAdminMixin(DatasetModelAdminMixin):
    """unfold takes any POST carrying "dataset" for an action on a change page's dataset table, so a model with a
    field of that name (an export definition) could never be saved. Pages without dataset tables skip it."""

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        if self.get_changeform_datasets(request):
            return super().changeform_view(request, object_id, form_url, extra_context)
        self.request = request
        extra_context = {**(extra_context or {}), "datasets": []}
        return super(DatasetModelAdminMixin, self).changeform_view(request, object_id, form_url, extra_context)


class ModelAdmin(CodesInWordsMixin, ConstraintSentencesAdminMixin, UnfoldModelAdmin, DatasetFieldAdminMixin):
    # A marketer's list is wide (codes, members, dates): use the page width and keep the filters beside it.
    list_fullwidth = True
    list_filter_sheet = False
    warn_unsaved_form = True


class TabularInline(CodesInWordsMixin, ConstraintSentencesInlineMixin, UnfoldTabularInline):
    # A table row's columns say what it is; a title above each would repeat it as the object's text.
    hide_title = True


class StackedInline(CodesInWordsMixin, ConstraintSentencesInlineMixin, UnfoldStackedInline):
    pass


class ExportModelAdmin(ExportMixin, ModelAdmin):
    export_form_class = ExportForm


# The background Import is wired in here, beside the one class that uses it.
from config.admin_imports import BackgroundImportAdminMixin  # noqa: E402


class ImportExportModelAdmin(BackgroundImportAdminMixin, ImportExportMixin, ModelAdmin):
    """Import runs as a background job (config.admin_imports); Export as django-import-export's page."""

    import_form_class = ImportForm
    export_form_class = ExportForm
