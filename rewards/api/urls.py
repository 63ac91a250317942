from django.urls import path

from . import views

urlpatterns = [
    path("rewards", views.RewardListCreateApi.as_view(), name="reward-list"),
    path("rewards/<int:reward_id>", views.RewardDetailApi.as_view(), name="reward-detail"),
    path("rewards/<int:reward_id>/award", views.RewardAwardApi.as_view(), name="reward-award"),
    path("rewards/<int:reward_id>/reserve", views.RewardReserveApi.as_view(), name="reward-reserve"),
    path(
        "members/<str:external_id>/rewards/<int:reward_id>/redeem",
        views.RewardRedeemApi.as_view(),
        name="reward-redeem",
    ),
    path(
        "reward-redemptions/<int:redemption_id>/assign",
        views.RewardRedemptionAssignApi.as_view(),
        name="reward-redemption-assign",
    ),
    path("certificate-codes", views.CertificateCodeListApi.as_view(), name="certificate-code-list"),
    path(
        "members/<str:external_id>/certificate-codes",
        views.MemberCertificateCodeListApi.as_view(),
        name="member-certificate-codes",
    ),
    path("certificate-codes/generate", views.CertificateCodeGenerateApi.as_view(), name="certificate-code-generate"),
    path("certificate-codes/<str:code>/image", views.CertificateCodeImageApi.as_view(), name="certificate-code-image"),
    path(
        "certificate-codes/<str:code>/fulfill",
        views.CertificateCodeFulfillApi.as_view(),
        name="certificate-code-fulfill",
    ),
]
