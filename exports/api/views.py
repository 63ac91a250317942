from django.core.files.storage import default_storage
from django.http import FileResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.response import Response
from rest_framework.views import APIView

from config.actors import Actor
from config.api.idempotency import idempotent
from config.api.roles import MARKETER_ONLY, STAFF
from exports import selectors, services
from exports.api.filters import ExportDefinitionFilterSet, ExportRunFilterSet
from exports.api.serializers import (
    ExportDefinitionInputSerializer,
    ExportDefinitionOutputSerializer,
    ExportDefinitionUpdateSerializer,
    ExportRunOutputSerializer,
    ExportRunStartedSerializer,
)
from exports.exceptions import ExportRunError
from exports.models import ExportRun


class ExportDefinitionListCreateApi(generics.ListAPIView):
    roles = MARKETER_ONLY
    serializer_class = ExportDefinitionOutputSerializer
    filterset_class = ExportDefinitionFilterSet

    def get_queryset(self):
        return selectors.export_definition_list()

    @extend_schema(request=ExportDefinitionInputSerializer, responses={201: ExportDefinitionOutputSerializer})
    def post(self, request):
        serializer = ExportDefinitionInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        definition = services.export_definition_create(**serializer.validated_data, actor=Actor.from_request(request))
        return Response(ExportDefinitionOutputSerializer(definition).data, status=status.HTTP_201_CREATED)


class ExportDefinitionDetailApi(APIView):
    roles = MARKETER_ONLY

    @extend_schema(responses=ExportDefinitionOutputSerializer)
    def get(self, request, pk):
        definition = get_object_or_404(selectors.export_definition_list(), pk=pk)
        return Response(ExportDefinitionOutputSerializer(definition).data)

    @extend_schema(request=ExportDefinitionUpdateSerializer, responses=ExportDefinitionOutputSerializer)
    def patch(self, request, pk):
        definition = get_object_or_404(selectors.export_definition_list(), pk=pk)
        serializer = ExportDefinitionUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        definition = services.export_definition_update(
            definition=definition, **serializer.validated_data, actor=Actor.from_request(request)
        )
        return Response(ExportDefinitionOutputSerializer(definition).data)

    @extend_schema(responses={204: None})
    def delete(self, request, pk):
        definition = get_object_or_404(selectors.export_definition_list(), pk=pk)
        services.export_definition_delete(definition=definition, actor=Actor.from_request(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


class ExportDefinitionRunApi(APIView):
    roles = MARKETER_ONLY

    @extend_schema(request=None, responses={202: ExportRunStartedSerializer})
    @idempotent  # a client retrying a timed-out "run" gets the same run, not a second export
    def post(self, request, pk):
        definition = get_object_or_404(selectors.export_definition_list(), pk=pk)
        run = services.export_run_start(definition=definition, actor=Actor.from_request(request))
        run.refresh_from_db(fields=["status"])  # in-process (eager) execution may have finished it already
        return Response({"id": run.pk, "status": run.status}, status=status.HTTP_202_ACCEPTED)


class ExportRunListApi(generics.ListAPIView):
    roles = STAFF
    serializer_class = ExportRunOutputSerializer
    filterset_class = ExportRunFilterSet

    def get_queryset(self):
        return selectors.export_run_list()


class ExportRunDetailApi(APIView):
    roles = STAFF

    @extend_schema(responses=ExportRunOutputSerializer)
    def get(self, request, pk):
        run = get_object_or_404(selectors.export_run_list(), pk=pk)
        return Response(ExportRunOutputSerializer(run, context={"request": request}).data)


class ExportRunFileApi(APIView):
    """The run's CSV, streamed from storage to a caller holding a token (never a public media URL)."""

    roles = STAFF  # export files hold member data: never a till's to read

    @extend_schema(responses={(200, "text/csv"): OpenApiTypes.BINARY})
    def get(self, request, pk):
        run = get_object_or_404(ExportRun.objects.select_related("definition"), pk=pk)
        if run.status != ExportRun.Status.SUCCEEDED or not run.file:
            raise ExportRunError(
                "The export run has no file (yet).", code="export_file_not_ready", reasons=[f"status_{run.status}"]
            )
        if not default_storage.exists(run.file.name):
            raise ExportRunError("The export file is no longer in storage.", code="export_file_missing",
                                 http_status=410)  # fmt: skip
        return FileResponse(
            default_storage.open(run.file.name, "rb"),
            as_attachment=True,
            filename=run.file.name.rsplit("/", 1)[-1],
            content_type="text/csv; charset=utf-8",
        )
