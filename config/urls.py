from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from coupons.api.urls import till_urlpatterns

api_v1 = [
    *till_urlpatterns,  # first: most API requests are a till's, and the coupon detail route would swallow them
    path("", include("members.api.urls")),
    path("", include("offers.api.urls")),
    path("", include("rewards.api.urls")),
    path("", include("coupons.api.urls")),
    path("", include("exports.api.urls")),
    path("", include("audit.api.urls")),
    path("", include("webhooks.api.urls")),
    path("", include("till.api.urls")),
]

urlpatterns = [
    path("api/v1/", include(api_v1)),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
]

# MEDIA_ROOT is never served, in development either: export files, uploads and their reports download
# only through the API (with a token that may read them) or the admin (a staff login with the permission).

handler400 = "config.api.problems.api_aware_400"
handler404 = "config.api.problems.api_aware_404"
handler500 = "config.api.problems.api_aware_500"

admin.site.site_header = "Offerdesk"
admin.site.site_title = "Offerdesk"
admin.site.index_title = "Loyalty back office"
