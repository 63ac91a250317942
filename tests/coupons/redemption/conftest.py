import pytest
from django.test import override_settings

from config.api import authentication


@pytest.fixture
def cached_clients():
    """The client cache on (as in production), so a request's statements are the till's own."""
    authentication._cache.clear()
    with override_settings(API_CLIENT_CACHE_SECONDS=60):
        yield
    authentication._cache.clear()
