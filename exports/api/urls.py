from django.urls import path

from exports.api import views
from exports.reports.api import LiabilityReportApi

urlpatterns = [
    path("export-definitions", views.ExportDefinitionListCreateApi.as_view(), name="export-definition-list"),
    path("export-definitions/<int:pk>", views.ExportDefinitionDetailApi.as_view(), name="export-definition-detail"),
    path("export-definitions/<int:pk>/run", views.ExportDefinitionRunApi.as_view(), name="export-definition-run"),
    path("export-runs", views.ExportRunListApi.as_view(), name="export-run-list"),
    path("export-runs/<int:pk>", views.ExportRunDetailApi.as_view(), name="export-run-detail"),
    path("export-runs/<int:pk>/file", views.ExportRunFileApi.as_view(), name="export-run-file"),
    path("reports/liability", LiabilityReportApi.as_view(), name="report-liability"),
]
