from django.urls import path

from . import views

urlpatterns = [
    path("coupon-series", views.CouponSeriesListCreateApi.as_view(), name="coupon-series-list"),
    path("coupon-series/<int:pk>", views.CouponSeriesDetailApi.as_view(), name="coupon-series-detail"),
    path("coupon-series/<int:pk>/issue", views.CouponIssueApi.as_view(), name="coupon-series-issue"),
    path("coupon-series/<int:pk>/uploads", views.SeriesUploadCreateApi.as_view(), name="coupon-series-uploads"),
    path("coupons/<str:code>", views.CouponDetailApi.as_view(), name="coupon-detail"),
    path("members/<str:external_id>/coupons", views.MemberCouponListApi.as_view(), name="member-coupons"),
    path("uploads/<int:pk>", views.UploadDetailApi.as_view(), name="upload-detail"),
    path("uploads/<int:pk>/error-report", views.UploadErrorReportApi.as_view(), name="upload-error-report"),
]
