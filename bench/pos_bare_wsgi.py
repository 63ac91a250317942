"""WSGI app for bench/pos_redeem.py: the real app plus bare redeem views as the in-run baselines.

The bare view is what the notes call the ceiling of the stack: DRF with token auth and the POS role,
one conditional `UPDATE … WHERE status = 'issued'`, nothing else (no rules, no events, no counters).
The plain view does the same with the same token authentication in a plain Django view (no DRF
request, negotiation or renderer): the ceiling of Django itself on this machine. Both sit under
/api/v1/, so they pass through the same middleware as the till's endpoints. Both write the status
directly rather than through `coupons.lifecycle`, on purpose: they are the floor the till is measured
against, never a path of the product.
"""

import json
import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.core.wsgi import get_wsgi_application  # noqa: E402
from django.http import JsonResponse  # noqa: E402
from django.urls import include, path  # noqa: E402
from django.views.decorators.csrf import csrf_exempt  # noqa: E402
from rest_framework.response import Response  # noqa: E402
from rest_framework.views import APIView  # noqa: E402

from config.api.authentication import ApiTokenAuthentication  # noqa: E402
from config.api.roles import POS_ONLY  # noqa: E402
from coupons.models import Coupon  # noqa: E402


class BareRedeemApi(APIView):
    roles = POS_ONLY

    def post(self, request):
        moved = Coupon.objects.filter(code=request.data["code"], is_common=False, status="issued").update(
            status="redeemed"
        )
        return Response({"redeemed": moved}, status=201 if moved else 409)


@csrf_exempt
def plain_redeem(request):
    client, _ = ApiTokenAuthentication().authenticate(request)
    if client.role not in POS_ONLY:
        return JsonResponse({"detail": "forbidden"}, status=403)
    code = json.loads(request.body)["code"]
    moved = Coupon.objects.filter(code=code, is_common=False, status="issued").update(status="redeemed")
    return JsonResponse({"redeemed": moved}, status=201 if moved else 409)


urlpatterns = [
    path("api/v1/bench/bare-redeem", BareRedeemApi.as_view()),
    path("api/v1/bench/plain-redeem", plain_redeem),
    path("", include(settings.ROOT_URLCONF)),
]
settings.ROOT_URLCONF = __name__

application = get_wsgi_application()

from config.celery import broker_transport_load  # noqa: E402

broker_transport_load()  # as config.wsgi does
