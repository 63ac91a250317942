import pytest
from django.test import override_settings

from config.api import authentication
from config.api.models import ApiClient

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def empty_cache():
    authentication._cache.clear()
    yield
    authentication._cache.clear()


def test_client_cache_off_reads_a_deactivation_at_once(marketer):
    assert marketer.get("/api/v1/coupon-series").status_code == 200
    ApiClient.objects.filter(pk=marketer.api_client.pk).update(is_active=False)
    assert marketer.get("/api/v1/coupon-series").status_code == 401


@override_settings(API_CLIENT_CACHE_SECONDS=60)
def test_client_cache_on_reuses_the_client_until_it_expires(marketer):
    assert marketer.get("/api/v1/coupon-series").status_code == 200
    ApiClient.objects.filter(pk=marketer.api_client.pk).update(is_active=False)
    assert marketer.get("/api/v1/coupon-series").status_code == 200  # within the cache window
    authentication._cache.clear()
    assert marketer.get("/api/v1/coupon-series").status_code == 401
