from django.urls import path

from . import redemption_views, views

# The till's endpoints, resolved before every other API route (config/urls.py): they take most requests.
till_urlpatterns = [
    path("coupons/validate", redemption_views.CouponValidateApi.as_view(), name="coupon-validate"),
    path("coupons/redeem", redemption_views.CouponRedeemApi.as_view(), name="coupon-redeem"),
]

urlpatterns = [
    path("coupon-series", views.CouponSeriesListCreateApi.as_view(), name="coupon-series-list"),
    path("coupon-series/<int:pk>", views.CouponSeriesDetailApi.as_view(), name="coupon-series-detail"),
    path("coupon-series/<int:pk>/issue", views.CouponIssueApi.as_view(), name="coupon-series-issue"),
    path("coupon-series/<int:pk>/uploads", views.SeriesUploadCreateApi.as_view(), name="coupon-series-uploads"),
    path(
        "coupon-redemptions/<int:pk>/reverse",
        redemption_views.RedemptionReverseApi.as_view(),
        name="coupon-redemption-reverse",
    ),
    path("coupon-series/<int:pk>/revoke", views.SeriesRevokeApi.as_view(), name="coupon-series-revoke"),
    path("coupons/<str:code>/resend", views.CouponResendApi.as_view(), name="coupon-resend"),
    path("coupons/<str:code>/transfer", views.CouponTransferApi.as_view(), name="coupon-transfer"),
    path("coupons/<str:code>", views.CouponDetailApi.as_view(), name="coupon-detail"),
    path("members/<str:external_id>/coupons", views.MemberCouponListApi.as_view(), name="member-coupons"),
    path("uploads/<int:pk>", views.UploadDetailApi.as_view(), name="upload-detail"),
    path("uploads/<int:pk>/error-report", views.UploadErrorReportApi.as_view(), name="upload-error-report"),
]
