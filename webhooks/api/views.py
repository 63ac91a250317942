from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.response import Response
from rest_framework.views import APIView

from config.actors import Actor
from config.api.roles import MARKETER_ONLY
from webhooks import selectors, services
from webhooks.models import Delivery

from .serializers import (
    DeliveryOutputSerializer,
    EndpointCreatedSerializer,
    EndpointInputSerializer,
    EndpointOutputSerializer,
    EndpointUpdateSerializer,
)


def _endpoint(pk):
    endpoint = selectors.endpoint_get(pk)
    if endpoint is None:
        raise Http404
    return endpoint


class WebhookListCreateApi(generics.ListAPIView):
    roles = MARKETER_ONLY
    serializer_class = EndpointOutputSerializer

    def get_queryset(self):
        return selectors.endpoint_list()

    @extend_schema(request=EndpointInputSerializer, responses={201: EndpointCreatedSerializer})
    def post(self, request):
        serializer = EndpointInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        endpoint, secret = services.endpoint_create(**serializer.validated_data, actor=Actor.from_request(request))
        endpoint.secret = secret
        return Response(EndpointCreatedSerializer(endpoint).data, status=status.HTTP_201_CREATED)


class WebhookDetailApi(APIView):
    roles = MARKETER_ONLY

    @extend_schema(responses=EndpointOutputSerializer)
    def get(self, request, pk):
        return Response(EndpointOutputSerializer(_endpoint(pk)).data)

    @extend_schema(request=EndpointUpdateSerializer, responses=EndpointOutputSerializer)
    def patch(self, request, pk):
        endpoint = _endpoint(pk)
        serializer = EndpointUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        endpoint = services.endpoint_update(endpoint=endpoint, **serializer.validated_data,
                                            actor=Actor.from_request(request))  # fmt: skip
        return Response(EndpointOutputSerializer(endpoint).data)

    @extend_schema(responses={204: None})
    def delete(self, request, pk):
        services.endpoint_delete(endpoint=_endpoint(pk), actor=Actor.from_request(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


class WebhookDeliveryListApi(generics.ListAPIView):
    """The endpoint's deliveries, newest first, each with its attempts (status, response code, duration)."""

    roles = MARKETER_ONLY
    serializer_class = DeliveryOutputSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the schema generator, with no endpoint to read
            return Delivery.objects.none()
        return selectors.delivery_list(endpoint=_endpoint(self.kwargs["pk"]))


class WebhookDeliveryRetryApi(APIView):
    """Send the delivery again now, with a fresh set of tries."""

    roles = MARKETER_ONLY

    @extend_schema(request=None, responses={202: DeliveryOutputSerializer})
    def post(self, request, pk):
        delivery = selectors.delivery_get(pk)
        if delivery is None:
            raise Http404
        delivery = services.delivery_retry(delivery=delivery, actor=Actor.from_request(request))
        return Response(DeliveryOutputSerializer(selectors.delivery_list().get(pk=delivery.pk)).data,
                        status=status.HTTP_202_ACCEPTED)  # fmt: skip
