"""The "Export" button of an admin list, as a background export run instead of a file built inside the request.

An admin list that mixes this in (before django-import-export's ExportMixin, whose button it takes over) asks
for a confirmation, queues a run of its dataset through the export engine and sends the user to the run's page:
progress bar, row count, download. The request returns at once, whatever the number of rows.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse

from config.actors import Actor
from config.errors import DomainError
from exports.services import admin_export_start

NOT_FILTERS = {"o", "p", "_changelist_filters"}  # ordering and page: the file has every row, in the dataset's order
BUTTON_TEMPLATE = "admin/exports/change_list_background_export.html"


class BackgroundExportAdminMixin:
    export_dataset: str = ""  # the exports dataset the list's rows come from
    # The list's filters the export applies: query parameter → the dataset's filter of the same meaning.
    export_filters: dict[str, str] = {}
    # A list without django-import-export's buttons sets change_list_template = BUTTON_TEMPLATE to show one.

    def get_urls(self):
        name = f"{self.model._meta.app_label}_{self.model._meta.model_name}_export"
        own = [path("export/", self.admin_site.admin_view(self.export_action), name=name)]
        return own + [url for url in super().get_urls() if getattr(url, "name", None) != name]

    def has_export_permission(self, request):
        return self.has_view_permission(request)

    def export_action(self, request):
        if not self.has_export_permission(request):
            raise PermissionDenied
        opts = self.model._meta
        changelist_url = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
        filters, unknown = {}, []
        for name, value in request.GET.items():
            if name in self.export_filters:
                filters[self.export_filters[name]] = value
            elif name not in NOT_FILTERS:
                unknown.append(name)
        if unknown:
            names = ", ".join(sorted(unknown))
            message = f"The export cannot apply this list's filter or search ({names}); clear it to export."
            self.message_user(request, message, level=messages.ERROR)
            return redirect(changelist_url)
        if request.method == "POST":
            try:
                run = admin_export_start(dataset=self.export_dataset, actor=Actor.from_admin_user(request.user),
                                         filters=filters)  # fmt: skip
            except DomainError as exc:
                self.message_user(request, str(exc), level=messages.ERROR)
                return redirect(changelist_url)
            self.message_user(request, f"The export of {opts.verbose_name_plural} runs in the background; "
                                       "this page shows its progress and the file when it is done.")  # fmt: skip
            return redirect(reverse("admin:exports_exportrun_change", args=[run.pk]))
        context = {
            **self.admin_site.each_context(request),
            "opts": opts,
            "title": f"Export {opts.verbose_name_plural}",
            "changelist_url": changelist_url,
            "filters": filters,
        }
        return TemplateResponse(request, "admin/exports/background_export_confirm.html", context)
