"""Settings shared by every environment, read from environment variables.

With nothing set, Bookbag runs on a SQLite file, runs Celery tasks in-process
and keeps files under ``var/`` in the project folder.
"""

import re
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()

DATA_DIR = Path(env("BOOKBAG_DATA_DIR", default=str(BASE_DIR / "var")))

DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])

INSTALLED_APPS = [
    "bookbag.apps.BookbagAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "bookbag.audit",
    "bookbag.tokens",
    "rubrics",
    "reviews",
    "exports",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "bookbag.audit.middleware.AuditContextMiddleware",
]

ROOT_URLCONF = "bookbag.urls"
WSGI_APPLICATION = "bookbag.wsgi.application"

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


def database_config(url: str) -> dict:
    """Build a ``DATABASES`` entry from a URL, with SQLite made safe for claims."""
    config = environ.Env.db_url_config(url)
    if config["ENGINE"] == "django.db.backends.sqlite3":
        # IMMEDIATE makes every atomic block take the write lock when it
        # starts, so two claims on SQLite serialize instead of racing.
        config["OPTIONS"] = {"transaction_mode": "IMMEDIATE", "timeout": 20}
    else:
        config["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
    return config


def cache_config(url: str) -> dict:
    """Build the ``default`` cache: local memory when ``url`` is empty, else the URL's backend (Redis for redis://)."""
    if not url:
        return {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "bookbag"}
    return environ.Env.cache_url_config(url)


def env_int(variable: str, default: int) -> int:
    """Read a whole number of at least 1 from ``variable``, or fail at startup naming the variable."""
    value = env(variable, default=str(default)).strip()
    if not (value.isascii() and value.isdigit()) or int(value) < 1:
        raise ImproperlyConfigured(f"{variable}={value!r} is not a whole number of at least 1; set it to one.")
    return int(value)


THROTTLE_RATE_PATTERN = re.compile(r"^\d+/(s|sec|m|min|h|hour|d|day)$")


def throttle_rate(variable: str, default: str) -> str | None:
    """Read a rate such as ``120/min`` from ``variable``; ``off`` turns the limit off (None)."""
    value = env(variable, default=default).strip()
    if value.lower() == "off":
        return None
    if not THROTTLE_RATE_PATTERN.match(value):
        raise ImproperlyConfigured(
            f"{variable}={value!r} is not a rate; use a count per period such as 120/min "
            "(periods: s, min, hour, day), or off."
        )
    return value


DATABASES = {
    "default": database_config(
        env("DATABASE_URL", default=f"sqlite:///{DATA_DIR / 'bookbag.sqlite3'}")
    )
}
# The cache stores the API's request counts for throttling. Each process has its own local-memory
# cache unless CACHE_URL (or REDIS_URL) names a shared one, so set it when several processes serve the API.
CACHES = {"default": cache_config(env("CACHE_URL", default="") or env("REDIS_URL", default=""))}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env("BOOKBAG_MEDIA_ROOT", default=str(DATA_DIR / "media")))

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "bookbag.tokens.authentication.ScopedTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": ["bookbag.api.filters.StrictFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "bookbag.api.pagination.CreatedCursorPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "bookbag.api.schema.BookbagAutoSchema",
    "EXCEPTION_HANDLER": "bookbag.api.errors.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": ["bookbag.api.throttling.ActionScopedRateThrottle"],
    # Requests per user: each ingest request carries up to 1,000 items, and each export request starts a build.
    "DEFAULT_THROTTLE_RATES": {
        "ingest": throttle_rate("BOOKBAG_THROTTLE_INGEST", "120/min"),
        "export": throttle_rate("BOOKBAG_THROTTLE_EXPORT", "60/hour"),
    },
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Bookbag API",
    "DESCRIPTION": "Ingest AI replies, review them and export training bundles.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # Several fields share a name but not their choices, so each choice set gets its own name here.
    "ENUM_NAME_OVERRIDES": {
        "ExportKindEnum": "exports.formats.kind_choices",
        "WebhookEventEnum": "exports.models.WebhookEndpoint.Event",
        "CriterionKindEnum": "rubrics.models.Criterion.Kind",
        "ReviewKindEnum": "reviews.models.Review.Kind",
    },
    # Swagger UI at /api/docs/ loads its scripts and styles from drf-spectacular-sidecar's static files, not a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# Celery: without a broker URL, tasks run in-process when they are sent.
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
if CELERY_TASK_ALWAYS_EAGER:
    # Eager tasks never reach a broker; the in-memory transport stops kombu
    # from looking for one on localhost.
    CELERY_BROKER_URL = "memory://localhost//"
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ROUTES = {"exports.*": {"queue": "exports"}}
CELERY_TASK_DEFAULT_QUEUE = "default"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("BOOKBAG_LOG_LEVEL", default="INFO")},
}

LOGIN_URL = "admin:login"

# Export jobs. A running build writes a heartbeat after every chunk of rows.
# With no heartbeat for BOOKBAG_EXPORT_HEARTBEAT_TIMEOUT seconds the job is
# stale, and the next delivered build task for it starts it again from scratch,
# up to BOOKBAG_EXPORT_MAX_ATTEMPTS attempts in all.
BOOKBAG_EXPORT_HEARTBEAT_TIMEOUT = env_int("BOOKBAG_EXPORT_HEARTBEAT_TIMEOUT", default=5 * 60)
BOOKBAG_EXPORT_MAX_ATTEMPTS = env_int("BOOKBAG_EXPORT_MAX_ATTEMPTS", default=3)
# Redis hands an unacknowledged task to another worker after this many seconds.
# It must exceed the longest build (the task's hard time limit is one hour).
BOOKBAG_BROKER_VISIBILITY_TIMEOUT = env_int("BOOKBAG_BROKER_VISIBILITY_TIMEOUT", default=65 * 60)
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": BOOKBAG_BROKER_VISIBILITY_TIMEOUT}
# The sweep fails a stale job only once Redis would have redelivered its task,
# so that a redelivered task gets to take the job over first.
BOOKBAG_EXPORT_STALE_FAIL_AFTER = env_int(
    "BOOKBAG_EXPORT_STALE_FAIL_AFTER", default=BOOKBAG_BROKER_VISIBILITY_TIMEOUT + BOOKBAG_EXPORT_HEARTBEAT_TIMEOUT
)
# Seconds to sleep after each chunk of rows; only tests set it, to stop a worker mid-build.
BOOKBAG_EXPORT_CHUNK_DELAY_SECONDS = 0.0
CELERY_BEAT_SCHEDULE = {
    "fail-stale-exports": {"task": "exports.fail_stale_exports", "schedule": 60.0},
}

# Webhooks: seconds a delivery waits to connect to the receiver, and then for each read of its response.
BOOKBAG_WEBHOOK_TIMEOUT_SECONDS = env.float("BOOKBAG_WEBHOOK_TIMEOUT_SECONDS", default=5.0)

# Days of audit history that ``manage.py prune_audit`` keeps when run without
# --older-than. Nothing is deleted unless that command runs.
AUDIT_RETENTION_DAYS = env_int("BOOKBAG_AUDIT_RETENTION_DAYS", default=730)
