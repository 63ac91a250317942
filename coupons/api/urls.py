"""Every coupon route of the API; each sub-domain keeps its views beside its services."""

from django.urls import path

from coupons.api import views
from coupons.issuance import api as issuance
from coupons.lifecycle import api as lifecycle
from coupons.notify import api as notify
from coupons.redemption import api as redemption
from coupons.series import api as series

# The till's endpoints, resolved before every other API route (config/urls.py): they take most requests.
till_urlpatterns = [
    path("coupons/validate", redemption.CouponValidateApi.as_view(), name="coupon-validate"),
    path("coupons/redeem", redemption.CouponRedeemApi.as_view(), name="coupon-redeem"),
]

urlpatterns = [
    path("coupon-series", series.CouponSeriesListCreateApi.as_view(), name="coupon-series-list"),
    path("coupon-series/<int:pk>", series.CouponSeriesDetailApi.as_view(), name="coupon-series-detail"),
    path("coupon-series/<int:pk>/issue", issuance.CouponIssueApi.as_view(), name="coupon-series-issue"),
    path("coupon-series/<int:pk>/uploads", issuance.SeriesUploadCreateApi.as_view(), name="coupon-series-uploads"),
    path(
        "coupon-redemptions/<int:pk>/reverse",
        redemption.RedemptionReverseApi.as_view(),
        name="coupon-redemption-reverse",
    ),
    path("coupon-series/<int:pk>/revoke", lifecycle.SeriesRevokeApi.as_view(), name="coupon-series-revoke"),
    path("coupons/<str:code>/resend", notify.CouponResendApi.as_view(), name="coupon-resend"),
    path("coupons/<str:code>/transfer", lifecycle.CouponTransferApi.as_view(), name="coupon-transfer"),
    path("coupons/<str:code>/image", views.CouponImageApi.as_view(), name="coupon-image"),
    path("coupons/<str:code>", views.CouponDetailApi.as_view(), name="coupon-detail"),
    path("members/<str:external_id>/coupons", views.MemberCouponListApi.as_view(), name="member-coupons"),
    path("uploads/<int:pk>", issuance.UploadDetailApi.as_view(), name="upload-detail"),
    path("uploads/<int:pk>/error-report", issuance.UploadErrorReportApi.as_view(), name="upload-error-report"),
]
