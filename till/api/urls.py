"""The till's cross-app routes (baskets, checkouts, returns, offline redemptions)."""

from django.urls import path

from till.offline.api import OfflineRedemptionsApi
from till.returns.api import ReturnRecordApi

urlpatterns = [
    path("transactions/<str:transaction_id>/returns", ReturnRecordApi.as_view(), name="return-record"),
    path("offline-redemptions", OfflineRedemptionsApi.as_view(), name="offline-redemptions"),
]
