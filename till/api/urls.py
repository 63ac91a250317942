"""The till's cross-app routes (baskets, checkouts, returns, offline redemptions)."""

from django.urls import path

from till.baskets.api import BasketEvaluateApi
from till.checkouts.api import CheckoutCancelApi, CheckoutCommitApi, CheckoutDetailApi, CheckoutOpenApi
from till.offline.api import OfflineRedemptionsApi
from till.returns.api import ReturnRecordApi

urlpatterns = [
    path("baskets/evaluate", BasketEvaluateApi.as_view(), name="basket-evaluate"),
    path("checkouts", CheckoutOpenApi.as_view(), name="checkout-open"),
    path("checkouts/<int:pk>", CheckoutDetailApi.as_view(), name="checkout-detail"),
    path("checkouts/<int:pk>/commit", CheckoutCommitApi.as_view(), name="checkout-commit"),
    path("checkouts/<int:pk>/cancel", CheckoutCancelApi.as_view(), name="checkout-cancel"),
    path("transactions/<str:transaction_id>/returns", ReturnRecordApi.as_view(), name="return-record"),
    path("offline-redemptions", OfflineRedemptionsApi.as_view(), name="offline-redemptions"),
]
