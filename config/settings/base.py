"""Settings every environment shares, read from the environment; not a settings module of its own.

`development.py` (what manage.py uses unless told otherwise), `test.py` (pytest) and `production.py`
(the WSGI/ASGI and Celery default) start from here. With nothing set this uses a SQLite file and runs
Celery tasks in-process; `DATABASE_URL` and `CELERY_BROKER_URL` switch the same code to PostgreSQL and Redis.
"""

from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import environ
from kombu import Queue

from config import export_formats as import_export_formats

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()

DEBUG = False
SECRET_KEY = env("SECRET_KEY", default="")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=[])

INSTALLED_APPS = [
    # unfold before django.contrib.admin: its templates take precedence
    "unfold",
    "unfold.contrib.filters",
    "unfold.contrib.forms",
    "unfold.contrib.import_export",
    "unfold.contrib.inlines",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "import_export",
    "django_celery_beat",
    "axes",
    "pgtrigger",
    "config.api",
    "members",
    "offers",
    "rewards",
    "coupons",
    "exports",
    "jobs",
    "audit",
    "webhooks",
    "till",
]

# Sessions, CSRF, session authentication and messages are Django's own, skipped for /api/v1/ (token clients).
MIDDLEWARE = [
    "config.middleware.ApiRequestGuardMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "config.api.problems.DatabaseUnavailableMiddleware",
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
# A streaming replica of the primary for reads that may lag (exports, reports, admin lists; config/db_router.py).
# Without REPLICA_DATABASE_URL there is no `replica` alias and those reads go to the primary like the rest.
if REPLICA_DATABASE_URL := env("REPLICA_DATABASE_URL", default=""):
    DATABASES["replica"] = env.db_url_config(REPLICA_DATABASE_URL)
    # Tests read the replica's rows from the test database itself rather than a test copy of their own.
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
DATABASE_ROUTERS = ["config.db_router.LaggingReadsRouter"]

# Behind a transaction-mode pooler (PgBouncer, pool_mode = transaction) each transaction may run on another
# server connection: statements prepared on one are unknown on the next (PgBouncer 1.18 has no protocol-level
# support), and a named cursor kept open between transactions (WITH HOLD) is lost.
DB_TRANSACTION_POOLER = env.bool("DB_TRANSACTION_POOLER", default=False)

for _database in DATABASES.values():
    if _database["ENGINE"] == "django.db.backends.sqlite3":
        # IMMEDIATE transactions take the write lock up front, so concurrent writers queue instead of
        # failing with "database is locked" when a read transaction tries to upgrade.
        _database["OPTIONS"] = {
            "timeout": 30,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    else:
        _database["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
        # A health check is one more round trip (SELECT 1) at the start of every request that uses the
        # database. Off, a connection the server dropped fails the one request that finds it (Django then
        # reconnects for the next), which a till retrying with its Idempotency-Key may prefer.
        _database["CONN_HEALTH_CHECKS"] = env.bool("CONN_HEALTH_CHECKS", default=True)
        # Parameters bound on the server and statements prepared after their fifth run on a connection: the
        # till's few queries then skip PostgreSQL's parse and plan (a coupon lookup planned in about 1 ms and
        # ran in 0.2 ms). Behind a transaction-mode pooler, preparing is off (DB_TRANSACTION_POOLER, or
        # DB_PREPARE_THRESHOLD=0).
        prepare_threshold = 0 if DB_TRANSACTION_POOLER else env.int("DB_PREPARE_THRESHOLD", default=5)
        _database.setdefault("OPTIONS", {}).update(
            {"server_side_binding": True, "prepare_threshold": prepare_threshold or None}
        )
        _database["DISABLE_SERVER_SIDE_CURSORS"] = DB_TRANSACTION_POOLER
        if _database["ENGINE"] == "django.db.backends.postgresql":
            # Django's backend, except that an integer too large for its column's type is sent whole (and
            # refused by the server) instead of truncated by the driver's 32-bit binding: config/postgresql.
            _database["ENGINE"] = "config.postgresql"
    _database["ATOMIC_REQUESTS"] = False
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

LANGUAGE_CODE = "en-us"
# The program's time zone: every time the back office shows is in it, with its name (config/formats).
TIME_ZONE = env("PROGRAM_TIME_ZONE", default="UTC")
FORMAT_MODULE_PATH = ["config.formats"]
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

# What one loyalty point is worth to the program, for the liability report's points value (a decimal string,
# in POINT_VALUE_CURRENCY): the cost of honouring a point, which finance sets; 0.01 until it does. Read here, so
# a value that is not a number stops the start rather than the report.
POINT_VALUE = Decimal(env("POINT_VALUE", default="0.01"))
POINT_VALUE_CURRENCY = env("POINT_VALUE_CURRENCY", default="USD")

# Coupon expiry reminders: the time zone their HH:MM is read in, and how late a reminder may still go
# out (after downtime, or for a coupon issued after its reminder's moment).
REMINDERS_TIME_ZONE = env("REMINDERS_TIME_ZONE", default="") or None
REMINDERS_LATE_HOURS = env.int("REMINDERS_LATE_HOURS", default=24)
# Connections the coupon expiry sweep uses side by side on PostgreSQL (each batch skips rows locked by another).
EXPIRY_SWEEP_WORKERS = env.int("EXPIRY_SWEEP_WORKERS", default=2)
# Connections a bulk issuance job planned side by side runs its chunks on (PostgreSQL).
BULK_ISSUE_WORKERS = env.int("BULK_ISSUE_WORKERS", default=2)
# Rows of a coupon upload judged and committed together: one transaction, one progress step, a few queries.
UPLOAD_CHUNK_ROWS = env.int("UPLOAD_CHUNK_ROWS", default=20_000)
# Seconds to pause after each bulk issuance chunk or upload chunk; for tests that kill a worker mid-job only.
BULK_ISSUE_PAUSE_PER_CHUNK = env.float("BULK_ISSUE_PAUSE_PER_CHUNK", default=0.0)
UPLOAD_PAUSE_PER_CHUNK = env.float("UPLOAD_PAUSE_PER_CHUNK", default=0.0)
# Rows of an admin import (django-import-export resources, row by row) checked or written together: one
# transaction, one progress step. A chunk must finish well within JOBS_STALE_AFTER_SECONDS.
IMPORT_CHUNK_ROWS = env.int("IMPORT_CHUNK_ROWS", default=1_000)
# Long jobs (bulk issuance, uploads, export runs) refresh a heartbeat after each chunk or row. One whose
# heartbeat is older than this is taken for dead and resumed by the reaper; it must exceed the longest chunk.
JOBS_STALE_AFTER_SECONDS = env.int("JOBS_STALE_AFTER_SECONDS", default=10 * 60)
# A job started this many times without finishing (worker killed, out of memory, time limit) is failed.
JOBS_MAX_ATTEMPTS = env.int("JOBS_MAX_ATTEMPTS", default=5)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["config.api.authentication.ApiTokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["config.api.permissions.RolePermission"],
    "DEFAULT_PAGINATION_CLASS": "config.api.pagination.StandardPagination",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "config.api.problems.problem_exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # JSON only: a form body cannot carry the nested settings, limits and items the API takes, and read as one
    # it dropped them silently. The upload endpoint declares the multipart parser itself.
    "DEFAULT_PARSER_CLASSES": ["config.api.parsers.JSONParser"],
    "TEST_REQUEST_DEFAULT_FORMAT": "json",  # the API reads JSON bodies (uploads excepted)
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
    # Swagger UI comes from the installed sidecar package through staticfiles, not a CDN: the docs work
    # on a network without internet and the assets are pinned with the rest of the dependencies.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "config.api.schema.document_problem_responses",
    ],
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
# The queue tasks go to unless routed elsewhere, also for tasks a worker queues (a resumed job's).
CELERY_TASK_DEFAULT_QUEUE = env("CELERY_TASK_DEFAULT_QUEUE", default="celery")
CELERY_TASK_IGNORE_RESULT = True
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_TASK_ACKS_LATE = True
# Off by default: a sweep that kills its worker would be handed straight back, forever. The job tasks
# (bulk issuance, uploads, export runs) turn it on, each bounded by the attempt count on its job row.
CELERY_TASK_REJECT_ON_WORKER_LOST = False
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = 25 * 60
CELERY_TASK_TIME_LIMIT = 30 * 60
# A task unacknowledged this long (its whole worker died) is delivered again; every task is idempotent.
# It must outlast the longest task (the export run's 60-minute hard limit) and every countdown, or a live
# task is delivered a second time: the `config.W001` check says so at start-up. Jobs whose worker died are
# resumed much sooner by the stale-job reaper (JOBS_STALE_AFTER_SECONDS).
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=65 * 60)}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"

# Queues per kind of work, so that a long job of one kind never delays another (docs/scaling.md, "Workers"):
# `till` for the short tasks that follow a sale or a member's day (limit notifications, expiry reminders),
# `bulk` for issuance, uploads, revokes, sweeps and bulk point credits, `exports` for export runs, `webhooks`
# for delivery, and the default queue for housekeeping. A worker started without -Q consumes them all; one
# host per kind names its queue. CELERY_QUEUES_BY_KIND=false sends everything to the default queue.
CELERY_QUEUES_BY_KIND = env.bool("CELERY_QUEUES_BY_KIND", default=True)
CELERY_WORK_QUEUES = {
    "till": [
        "coupons.tasks.series_limit_notify_task",
        "jobs.tasks.send_reminders_task",
        "till.tasks.checkouts_expire_due_task",  # holds lapse on their own; the sweep frees the coupons' rows
    ],
    "bulk": [
        "coupons.tasks.bulk_issue_run_task",
        "coupons.tasks.upload_process_task",
        "coupons.tasks.series_revoke_run_task",
        "jobs.tasks.expire_due_task",
        "members.tasks.points_adjust_task",
        "till.tasks.offline_batch_judge_task",
        "jobs.tasks.admin_import_run_task",
    ],
    "exports": [
        "exports.tasks.export_run_execute_task",
        "exports.tasks.export_definition_run_scheduled_task",
        "exports.tasks.dashboard_refresh_task",
        "exports.tasks.liability_days_close_task",
    ],
    "webhooks": [
        "webhooks.tasks.events_dispatch_task",
        "webhooks.tasks.endpoint_deliver_task",
        "webhooks.tasks.deliveries_pump_task",
        "webhooks.tasks.webhook_events_purge_task",
    ],
}
CELERY_TASK_ROUTES = (
    {task: {"queue": queue} for queue, tasks in CELERY_WORK_QUEUES.items() for task in tasks}
    if CELERY_QUEUES_BY_KIND
    else {}
)
# Declared, so that a worker without -Q consumes every queue (the default one included).
CELERY_TASK_QUEUES = [
    Queue(name) for name in [CELERY_TASK_DEFAULT_QUEUE, *(CELERY_WORK_QUEUES if CELERY_QUEUES_BY_KIND else ())]
]
CELERY_TIMEZONE = TIME_ZONE

# The admin's theme (django-unfold): the program's name, the sidebar by job and the dashboard on the index page.
UNFOLD = {
    "SITE_TITLE": "Offerdesk",
    "SITE_HEADER": "Offerdesk",
    "SITE_SUBHEADER": "Loyalty back office",
    "SITE_SYMBOL": "loyalty",
    "SHOW_HISTORY": True,
    "SHOW_VIEW_ON_SITE": False,
    "DASHBOARD_CALLBACK": "exports.dashboard.admin.dashboard_callback",
    "SIDEBAR": {
        "show_search": True,
        "show_all_applications": False,
        "navigation": "config.admin_navigation.sidebar_navigation",
    },
}

# Hash-partition the largest tables (coupons, coupon events and redemptions, offer responses) on PostgreSQL when
# migrating (docs/scaling.md, "Partitioning"). Off by default: on PostgreSQL 15 the partitions cost the till about
# twice the database CPU a redeem or validate takes on plain tables; `manage.py partition_tables` converts later.
PARTITION_LARGE_TABLES = env.bool("PARTITION_LARGE_TABLES", default=False)

IMPORT_EXPORT_USE_TRANSACTIONS = True
IMPORT_EXPORT_SKIP_ADMIN_LOG = False
# Every admin export, whatever its Resource: spreadsheet formats prefix formula cells with "'".
EXPORT_FORMATS = import_export_formats.EXPORT_FORMATS

# Exports: rows per chunk between progress updates; the pause is for tests that kill a worker mid-export.
EXPORTS_CHUNK_ROWS = env.int("EXPORTS_CHUNK_ROWS", default=10_000)
EXPORTS_PAUSE_PER_CHUNK = env.float("EXPORTS_PAUSE_PER_CHUNK", default=0.0)

# Webhooks (webhooks/, docs/webhooks.md). A receiver must be https on a public address unless this is set;
# development and test settings turn it on (a receiver on 127.0.0.1), production leaves it off.
WEBHOOK_ALLOW_PRIVATE_URLS = env.bool("WEBHOOK_ALLOW_PRIVATE_URLS", default=False)
# Seconds to connect to and to wait for a receiver's answer: a slow receiver never holds a worker for long.
WEBHOOK_TIMEOUT_SECONDS = env.float("WEBHOOK_TIMEOUT_SECONDS", default=5.0)
# Seconds before each retry after a failed attempt (each +/-20% of jitter): ten tries over about 25 hours.
WEBHOOK_RETRY_SCHEDULE = env.list("WEBHOOK_RETRY_SCHEDULE", cast=float,
                                  default=[5, 60, 300, 1800, 3600, 7200, 14400, 28800, 36000])  # fmt: skip
# An endpoint whose deliveries have failed without a success for this long is disabled, when one runs out of tries.
WEBHOOK_DISABLE_AFTER_HOURS = env.float("WEBHOOK_DISABLE_AFTER_HOURS", default=24)
# Deliveries one task sends side by side (each to a different object, so the order per object holds).
WEBHOOK_DELIVERY_CONCURRENCY = env.int("WEBHOOK_DELIVERY_CONCURRENCY", default=8)
# Events (with their deliveries and attempts) older than this are purged by the daily schedule.
WEBHOOK_EVENT_RETENTION_DAYS = env.int("WEBHOOK_EVENT_RETENTION_DAYS", default=30)

# How long a stored Idempotency-Key answer is replayed before the key may be used again.
IDEMPOTENCY_KEY_TTL_HOURS = env.int("IDEMPOTENCY_KEY_TTL_HOURS", default=24)

# Times a client states (`at` on validate and redeem, `occurred_at` on transactions, offline redemptions) are
# accepted up to this far ahead of the server's clock (a till's clock drift) and this far behind it (how long a
# till may stay offline); outside, 409 `time_out_of_range` (config/client_time.py).
CLIENT_CLOCK_SKEW_SECONDS = env.int("CLIENT_CLOCK_SKEW_SECONDS", default=300)
OFFLINE_WINDOW_HOURS = env.int("OFFLINE_WINDOW_HOURS", default=72)
# How long a till's checkout holds its coupons and offer responses before the sweep releases them (till.checkouts).
CHECKOUT_HOLD_SECONDS = env.int("CHECKOUT_HOLD_SECONDS", default=300)

# A purchase may be returned until this many days after it was made (its `occurred_at`); later, 409
# `return_window_closed` (till/returns/services.py).
RETURN_WINDOW_DAYS = env.int("RETURN_WINDOW_DAYS", default=90)

# Request limits of the API: a body (other than a multipart file) of more than DATA_UPLOAD_MAX_MEMORY_SIZE
# bytes answers 413, a URL (path and query string) longer than this 414, as problem details.
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=2_621_440)  # Django's default
API_MAX_URL_LENGTH = env.int("API_MAX_URL_LENGTH", default=8000)  # RFC 9110 §4.1: at least 8,000 octets

# Unknown coupon codes a POS client, and all clients together in one store, may try per minute before
# they get 429 (code guessing, coupons/redemption/guessing.py).
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
