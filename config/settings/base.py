"""Settings for every environment, read from the environment.

With nothing set this is a local development set-up: a SQLite file, DEBUG on, a local secret and
Celery tasks executed in-process. `DATABASE_URL` and `CELERY_BROKER_URL` switch the same code to
PostgreSQL and Redis.
"""

from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()

DEBUG = env.bool("DEBUG", default=True)
SECRET_KEY = env("SECRET_KEY", default="")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=[])

if DEBUG:
    SECRET_KEY = SECRET_KEY or "django-insecure-local-development-only"
    ALLOWED_HOSTS = ALLOWED_HOSTS or ["127.0.0.1", "localhost", "testserver"]
else:
    missing = [name for name, value in (("SECRET_KEY", SECRET_KEY), ("ALLOWED_HOSTS", ALLOWED_HOSTS)) if not value]
    if missing:
        raise ImproperlyConfigured(f"With DEBUG off, set {' and '.join(missing)} in the environment.")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "import_export",
    "django_celery_beat",
    "axes",
    "config.api",
    "members",
    "offers",
    "rewards",
    "coupons",
    "exports",
]

# Sessions, CSRF, session authentication and messages are Django's own, skipped for /api/v1/ (token clients).
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "config.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "config.middleware.CsrfViewMiddleware",
    "config.middleware.AuthenticationMiddleware",
    "config.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",  # last, as django-axes asks: it turns a lockout into its answer
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE transactions take the write lock up front, so concurrent writers queue instead of
    # failing with "database is locked" when a read transaction tries to upgrade.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 30,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    # A health check is one more round trip (SELECT 1) at the start of every request that uses the
    # database. Off, a connection the server dropped fails the one request that finds it (Django then
    # reconnects for the next), which a till retrying with its Idempotency-Key may prefer.
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = env.bool("CONN_HEALTH_CHECKS", default=True)
    # Parameters bound on the server and statements prepared after their fifth run on a connection: the
    # till's few queries then skip PostgreSQL's parse and plan (a coupon lookup planned in about 1 ms and
    # ran in 0.2 ms). Behind a transaction-mode pooler, set DB_PREPARE_THRESHOLD=0 to turn preparing off.
    prepare_threshold = env.int("DB_PREPARE_THRESHOLD", default=5)
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"server_side_binding": True, "prepare_threshold": prepare_threshold or None}
    )
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "var" / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env("MEDIA_ROOT", default=str(BASE_DIR / "var" / "media")))

EMAIL_BACKEND = env("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="offerdesk@localhost")
EMAIL_FILE_PATH = env("EMAIL_FILE_PATH", default=str(BASE_DIR / "var" / "mail"))

# SMS backend (config/sms.py), chosen like EMAIL_BACKEND; the console backend only prints.
SMS_BACKEND = env("SMS_BACKEND", default="config.sms.ConsoleBackend")
SMS_FILE_PATH = env("SMS_FILE_PATH", default=str(BASE_DIR / "var" / "sms"))

# Coupon expiry reminders: the time zone their HH:MM is read in, and how late a reminder may still go
# out (after downtime, or for a coupon issued after its reminder's moment).
REMINDERS_TIME_ZONE = env("REMINDERS_TIME_ZONE", default="") or None
REMINDERS_LATE_HOURS = env.int("REMINDERS_LATE_HOURS", default=24)
# Connections the coupon expiry sweep uses side by side on PostgreSQL (each batch skips rows locked by another).
EXPIRY_SWEEP_WORKERS = env.int("EXPIRY_SWEEP_WORKERS", default=2)
# Connections a bulk issuance job planned side by side runs its chunks on (PostgreSQL).
BULK_ISSUE_WORKERS = env.int("BULK_ISSUE_WORKERS", default=2)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["config.api.authentication.ApiTokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["config.api.permissions.RolePermission"],
    "DEFAULT_PAGINATION_CLASS": "config.api.pagination.StandardPagination",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "config.api.problems.problem_exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "rest_framework.parsers.JSONParser",
        "rest_framework.parsers.MultiPartParser",
        "rest_framework.parsers.FormParser",
    ],
    "UNAUTHENTICATED_USER": None,
    "PAGE_SIZE": 50,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Offerdesk API",
    "DESCRIPTION": "Offers, offer responses, reward certificate codes and coupons for point-of-sale, "
    "member-care and marketing clients.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    # Choice sets that share a field name with another app's get their own schema names.
    "ENUM_NAME_OVERRIDES": {
        "CertificateCodeStatusEnum": "rewards.models.CertificateCode.Status",
        "RewardTypeEnum": "rewards.models.Reward.Type",
        "MemberStatusEnum": "members.models.Member.Status",
        "OrgEntityTypeEnum": "members.models.OrgEntity.Type",
        "ExportRunStatusEnum": "exports.models.ExportRun.Status",
        "PointsEntryKindEnum": "members.models.PointsEntry.Kind",
        "OfferLimitKindEnum": "offers.models.OfferLimit.Kind",
        "RewardRedemptionKindEnum": "rewards.models.RewardRedemption.Kind",
        "UploadKindEnum": "coupons.models.Upload.Kind",
        "OfferResponseStatusEnum": "offers.models.OfferResponse.Status",
    },
}

# Celery: with no broker configured, tasks run in-process (eagerly) so a bare checkout works.
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_BROKER_URL = CELERY_BROKER_URL or "memory://"
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = 25 * 60
CELERY_TASK_TIME_LIMIT = 30 * 60
# A task unacknowledged this long (its worker died) is delivered again; every task is idempotent.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600)}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TIMEZONE = TIME_ZONE

IMPORT_EXPORT_USE_TRANSACTIONS = True
IMPORT_EXPORT_SKIP_ADMIN_LOG = False

# Exports: rows per chunk between progress updates; the pause is for tests that kill a worker mid-export.
EXPORTS_CHUNK_ROWS = env.int("EXPORTS_CHUNK_ROWS", default=10_000)
EXPORTS_PAUSE_PER_CHUNK = env.float("EXPORTS_PAUSE_PER_CHUNK", default=0.0)

# How long a stored Idempotency-Key answer is replayed before the key may be used again.
IDEMPOTENCY_KEY_TTL_HOURS = env.int("IDEMPOTENCY_KEY_TTL_HOURS", default=24)

# Unknown coupon codes a POS client, and all clients together in one store, may try per minute before
# they get 429 (code guessing, coupons/guessing.py).
COUPON_UNKNOWN_CODES_PER_MINUTE = env.int("COUPON_UNKNOWN_CODES_PER_MINUTE", default=20)
COUPON_UNKNOWN_CODES_PER_STORE_PER_MINUTE = env.int("COUPON_UNKNOWN_CODES_PER_STORE_PER_MINUTE", default=20)

# Failed token authentications one address may make per minute; after that the address gets 429, even
# with a correct token, until the minute ends (config/api/authentication.py).
API_AUTH_FAILURES_PER_MINUTE = env.int("API_AUTH_FAILURES_PER_MINUTE", default=20)
# Reverse proxies (addresses or networks) whose X-Forwarded-For is believed; by default none: REMOTE_ADDR.
TRUSTED_PROXIES = env.list("TRUSTED_PROXIES", default=[])

# The admin login locks out a username at one address after repeated failures (django-axes); unlock in
# the admin (Axes, Access attempts) or with `manage.py axes_reset_username USERNAME`.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=30))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "config.api.authentication.client_address"
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]

# Seconds a process may reuse an authenticated API client (0: read it on every request).
API_CLIENT_CACHE_SECONDS = env.float("API_CLIENT_CACHE_SECONDS", default=0)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
