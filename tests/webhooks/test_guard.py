"""The SSRF guard: https and public addresses only, unless WEBHOOK_ALLOW_PRIVATE_URLS (on in tests)."""

import pytest

from webhooks.exceptions import WebhookEndpointError
from webhooks.guard import url_check


@pytest.fixture
def production_guard(settings):
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = False


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://93.184.216.34/hooks", "url_not_https"),
        ("https://127.0.0.1/hooks", "url_not_public"),
        ("https://localhost/hooks", "url_not_public"),
        ("https://10.1.2.3/hooks", "url_not_public"),
        ("https://192.168.0.5:8443/hooks", "url_not_public"),
        ("https://169.254.169.254/latest/meta-data", "url_not_public"),
        ("https://[::1]/hooks", "url_not_public"),
        ("https://[::ffff:127.0.0.1]/hooks", "url_not_public"),
        ("https://0.0.0.0/hooks", "url_not_public"),
        ("https://user:pw@93.184.216.34/hooks", "url_malformed"),
        ("ftp://93.184.216.34/hooks", "url_malformed"),
        ("https://[::1/hooks", "url_malformed"),
        ("https://no-such-host.invalid/hooks", "url_unresolvable"),
    ],
)
def test_url_check_refuses_in_production(production_guard, url, reason):
    with pytest.raises(WebhookEndpointError) as refused:
        url_check(url)
    assert refused.value.reasons == [reason]


def test_url_check_allows_https_to_a_public_address(production_guard):
    url_check("https://93.184.216.34/hooks")


def test_url_check_allows_loopback_when_private_urls_are_allowed(settings):
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = True
    url_check("http://127.0.0.1:8000/hooks")


def test_private_urls_are_off_in_production_settings_and_on_in_development():
    from config.settings import base, development

    assert base.WEBHOOK_ALLOW_PRIVATE_URLS is False
    assert development.WEBHOOK_ALLOW_PRIVATE_URLS is True
