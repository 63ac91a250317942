from django.urls import path

from . import views

urlpatterns = [
    path("offers", views.OfferListCreateApi.as_view(), name="offer-list"),
    path("offers/<int:offer_id>", views.OfferDetailApi.as_view(), name="offer-detail"),
    path("offers/<int:offer_id>/discontinue", views.OfferDiscontinueApi.as_view(), name="offer-discontinue"),
    path("members/<str:external_id>/offers", views.MembershipOfferListApi.as_view(), name="membership-offer-list"),
    path(
        "members/<str:external_id>/offers/<int:offer_id>",
        views.MembershipOfferDetailApi.as_view(),
        name="membership-offer-detail",
    ),
    path(
        "members/<str:external_id>/offers/<int:offer_id>/activate",
        views.MembershipOfferActivateApi.as_view(),
        name="membership-offer-activate",
    ),
    path("transactions", views.TransactionRecordApi.as_view(), name="transaction-record"),
]
