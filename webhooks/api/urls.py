from django.urls import path

from . import views

urlpatterns = [
    path("webhooks", views.WebhookListCreateApi.as_view(), name="webhook-list"),
    path("webhooks/<int:pk>", views.WebhookDetailApi.as_view(), name="webhook-detail"),
    path("webhooks/<int:pk>/deliveries", views.WebhookDeliveryListApi.as_view(), name="webhook-delivery-list"),
    path("webhook-deliveries/<int:pk>/retry", views.WebhookDeliveryRetryApi.as_view(), name="webhook-delivery-retry"),
]
