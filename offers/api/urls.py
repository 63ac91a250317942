from django.urls import path

from offers.api import views
from offers.responses import api as response_views

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
    path(
        "members/<str:external_id>/offers/<int:offer_id>/claim",
        response_views.OfferResponseClaimApi.as_view(),
        name="offer-response-claim",
    ),
    path(
        "members/<str:external_id>/offer-responses",
        response_views.MemberOfferResponseListApi.as_view(),
        name="member-offer-response-list",
    ),
    path("offer-responses", response_views.OfferResponseListApi.as_view(), name="offer-response-list"),
    path(
        "offer-responses/<int:response_id>",
        response_views.OfferResponseDetailApi.as_view(),
        name="offer-response-detail",
    ),
    path(
        "offer-responses/<int:response_id>/transition",
        response_views.OfferResponseTransitionApi.as_view(),
        name="offer-response-transition",
    ),
    path("transactions", views.TransactionRecordApi.as_view(), name="transaction-record"),
]
