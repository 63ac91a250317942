"""What the till's route tests send: the two endpoints, a request body, and the client cache as in production."""

import pytest
from django.test import override_settings

from config.api import authentication

VALIDATE, REDEEM = "/api/v1/coupons/validate", "/api/v1/coupons/redeem"


@pytest.fixture
def cached_clients():
    """The client cache on (as in production), so a request's statements are the till's own."""
    authentication._cache.clear()
    with override_settings(API_CLIENT_CACHE_SECONDS=60):
        yield
    authentication._cache.clear()


def body(coupon, store, **overrides):
    return {"code": coupon.code, "member": coupon.member.external_id, "store": store.code, "bill_amount": "50.00",
            **overrides}  # fmt: skip
