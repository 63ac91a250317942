"""WSGI app for bench/pos_redeem.py: the real app plus one bare redeem view as the in-run baseline.

The bare view is what the notes call the ceiling of the stack: DRF with token auth and the POS role,
one conditional `UPDATE … WHERE status = 'issued'`, nothing else (no rules, no events, no counters).
"""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.core.wsgi import get_wsgi_application  # noqa: E402
from django.urls import include, path  # noqa: E402
from rest_framework.response import Response  # noqa: E402
from rest_framework.views import APIView  # noqa: E402

from config.api.roles import POS_ONLY  # noqa: E402
from coupons.models import Coupon  # noqa: E402


class BareRedeemApi(APIView):
    roles = POS_ONLY

    def post(self, request):
        moved = Coupon.objects.filter(code=request.data["code"], is_common=False, status="issued").update(
            status="redeemed"
        )
        return Response({"redeemed": moved}, status=201 if moved else 409)


urlpatterns = [path("bench/bare-redeem", BareRedeemApi.as_view()), path("", include(settings.ROOT_URLCONF))]
settings.ROOT_URLCONF = __name__

application = get_wsgi_application()
