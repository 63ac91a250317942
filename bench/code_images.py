"""Benchmark: what drawing a code costs, in process, against reading the same coupon as JSON.

Runs in a throw-away database of its own on whatever DATABASE_URL points at (SQLite in memory by default):

    .venv/bin/python bench/code_images.py [--requests 300]

Prints, for each symbology and format, the drawing alone (config.code_images.code_image) in images/s and the
full request (`GET /api/v1/coupons/{code}/image`, a POS token, the unknown-code guard) in requests/s, against
the baseline measured in the same run: `GET /api/v1/coupons/{code}` for the same coupon and token. A 304
answer (If-None-Match) is timed too: it skips the drawing's bytes but not the drawing's fingerprint.
"""

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.development")

import django

django.setup()

from django.db import connection  # noqa: E402

CODE = "CPN-7Q2X9K4M"


def rate(count, call):
    started = time.perf_counter()
    for _ in range(count):
        call()
    return count / (time.perf_counter() - started)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()

    connection.settings_dict.setdefault("TEST", {})["NAME"] = f"bench_images_{os.getpid()}"
    if connection.vendor == "sqlite":
        connection.settings_dict["TEST"]["NAME"] = ":memory:"
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        from django.conf import settings
        from rest_framework.test import APIClient

        from config.actors import Actor
        from config.api.services import api_client_create
        from config.code_images import code_image
        from coupons.models import Coupon, CouponSeries
        from members.models import Member, OrgEntity
        from offers.models import Offer

        settings.ALLOWED_HOSTS = ["*"]
        store = OrgEntity.objects.create(code="S-BENCH", type="store", name="Bench store")
        member = Member.objects.create(external_id="BENCH-1")
        series = CouponSeries.objects.create(offer=Offer.objects.create(external_id="O", name="O"), name="Bench")
        Coupon.objects.create(series=series, code=CODE, member=member, status="issued")
        _, key = api_client_create(name="bench-pos", role="pos", store_codes=[store.code], actor=Actor.cli("bench"))
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
        print(f"database: {connection.vendor}; {args.requests} requests a figure, in process")

        def get(url, **headers):
            response = client.get(url, **headers)
            assert response.status_code in (200, 304), response.status_code
            return response

        baseline = rate(args.requests, lambda: get(f"/api/v1/coupons/{CODE}"))
        print(f"baseline GET /coupons/{{code}} (JSON): {baseline:8.0f} requests/s")
        for symbology in ("qr", "code128"):
            for image_format in ("svg", "png"):
                draw = lambda s=symbology, f=image_format: code_image(code=CODE, symbology=s, image_format=f)  # noqa: E731
                drawing = rate(args.requests, draw)
                url = f"/api/v1/coupons/{CODE}/image?symbology={symbology}&format={image_format}"
                size = len(get(url).content)
                served = rate(args.requests, lambda url=url: get(url))
                print(
                    f"{symbology:8} {image_format}: drawing {drawing:7.0f}/s, request {served:7.0f}/s "
                    f"({served / baseline:.2f}x the JSON read), {size:,} bytes"
                )
        url = f"/api/v1/coupons/{CODE}/image?format=png"
        etag = get(url)["ETag"]
        revalidated = rate(args.requests, lambda: get(url, HTTP_IF_NONE_MATCH=etag))
        print(f"qr png revalidated (304): {revalidated:7.0f} requests/s ({revalidated / baseline:.2f}x the JSON read)")
    finally:
        connection.close()
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
