"""What every code-image endpoint shares: its query, its negotiation and its cached answer."""

from django.http import HttpResponse
from django.utils.cache import get_conditional_response, patch_cache_control, patch_vary_headers
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.negotiation import BaseContentNegotiation

from config.code_images import FORMATS, SYMBOLOGIES, code_image, code_image_etag

# An image of a code never changes, so a client may keep it: privately (the answer needs a token) and for a year.
CACHE_SECONDS = 365 * 24 * 3600


class CodeImageQuerySerializer(serializers.Serializer):
    """Give it `query_params.dict()`: from a QueryDict DRF reads an empty value as absent (the default)."""

    symbology = serializers.ChoiceField(choices=SYMBOLOGIES, default="qr")
    format = serializers.ChoiceField(choices=FORMATS, default="svg")


class ProblemsAsJson(BaseContentNegotiation):
    """The image is the answer whatever `Accept` says; only an error is rendered, always as problem JSON.

    DRF's own negotiation would read `?format=png` as a request for a renderer named `png` and answer 404,
    and `Accept: image/png` as one it cannot serve (406).
    """

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class CodeImageViewMixin:
    content_negotiation_class = ProblemsAsJson

    def image_query(self, request) -> dict:
        """The valid `symbology` and `format`, or 400: checked before the code is looked up (and counted)."""
        query = CodeImageQuerySerializer(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        return query.validated_data

    def image_response(self, request, code: str, query: dict) -> HttpResponse:
        return code_image_response(request, code, symbology=query["symbology"], image_format=query["format"])


def code_image_response(request, code: str, *, symbology: str, image_format: str) -> HttpResponse:
    """The image, or 304 when the client's copy (`If-None-Match`) is this one; for the API and the admin."""
    etag = code_image_etag(code=code, symbology=symbology, image_format=image_format)
    response = get_conditional_response(request, etag=etag)
    if response is None:
        image = code_image(code=code, symbology=symbology, image_format=image_format)
        response = HttpResponse(image.content, content_type=image.content_type)
        response["Content-Disposition"] = f'inline; filename="{image.filename}"'
    response["ETag"] = etag
    patch_cache_control(response, private=True, max_age=CACHE_SECONDS, immutable=True)
    patch_vary_headers(response, ["Authorization", "Cookie"])
    if image_format == "svg":
        # An SVG opened on its own is a document: let it draw, never run anything.
        response["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    return response


def code_image_schema(summary: str):
    return extend_schema(
        summary=summary,
        parameters=[CodeImageQuerySerializer],
        responses={
            (200, "image/svg+xml"): OpenApiResponse(OpenApiTypes.BINARY, description="The code as an SVG"),
            (200, "image/png"): OpenApiResponse(OpenApiTypes.BINARY, description="The code as a PNG"),
        },
    )
