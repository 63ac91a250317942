"""Production, the default of the WSGI/ASGI entry points and the Celery app: DEBUG off, HTTPS only.

The secret and the hosts must come from the environment; TLS ends at a proxy in front of the app, which
sets `X-Forwarded-Proto` (and drops any such header a client sends).
"""

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import ALLOWED_HOSTS, SECRET_KEY, env

if env.bool("DEBUG", default=False):
    raise ImproperlyConfigured("Production settings must run with DEBUG off.")
DEBUG = False

_missing = [name for name, value in (("SECRET_KEY", SECRET_KEY), ("ALLOWED_HOSTS", ALLOWED_HOSTS)) if not value]
if _missing:
    raise ImproperlyConfigured(f"Production settings need {' and '.join(_missing)} in the environment.")

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
# A year of HSTS for this host and its subdomains. Preloading commits the whole registrable domain to
# HTTPS in every browser, which only its owner can decide: opt in with SECURE_HSTS_PRELOAD=true.
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=True)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=True)
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
SECURE_CONTENT_TYPE_NOSNIFF = True
