from .base import *  # noqa: F403

SECRET_KEY = "django-insecure-tests-only"
ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
SMS_BACKEND = "config.sms.LocmemBackend"
# Unit tests run tasks in-process; tests/integration start a real worker on Redis.
CELERY_TASK_ALWAYS_EAGER = True
MEDIA_ROOT = BASE_DIR / "var" / "test-media"  # noqa: F405
LOGGING["root"]["level"] = "WARNING"  # noqa: F405
WEBHOOK_ALLOW_PRIVATE_URLS = True  # the tests' receivers listen on 127.0.0.1
# The suite runs the partitioned layout on PostgreSQL (its tests convert back and forth); PARTITION_LARGE_TABLES=false
# runs it on plain tables, the production default.
PARTITION_LARGE_TABLES = env.bool("PARTITION_LARGE_TABLES", default=True)  # noqa: F405
