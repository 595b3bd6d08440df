"""Settings shared by every environment, read from environment variables.

With nothing set, Bookbag runs on a SQLite file, runs Celery tasks in-process
and keeps files under ``var/`` in the project folder.
"""

from pathlib import Path

import environ

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


DATABASES = {
    "default": database_config(
        env("DATABASE_URL", default=f"sqlite:///{DATA_DIR / 'bookbag.sqlite3'}")
    )
}
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
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "bookbag.api.pagination.CreatedCursorPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "bookbag.api.errors.exception_handler",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Bookbag API",
    "DESCRIPTION": "Ingest AI replies, review them and export training bundles.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # Three models have a "kind" field and webhooks name events in two places; fixed names keep the
    # schema stable and ``check --deploy --fail-level WARNING`` quiet.
    "ENUM_NAME_OVERRIDES": {
        "ReviewKindEnum": "reviews.models.Review.Kind",
        "CriterionKindEnum": "rubrics.models.Criterion.Kind",
        "ExportKindEnum": "exports.formats.kind_choices",
        "WebhookEventEnum": "exports.models.WebhookEndpoint.Event",
    },
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
BOOKBAG_EXPORT_HEARTBEAT_TIMEOUT = env.int("BOOKBAG_EXPORT_HEARTBEAT_TIMEOUT", default=5 * 60)
BOOKBAG_EXPORT_MAX_ATTEMPTS = env.int("BOOKBAG_EXPORT_MAX_ATTEMPTS", default=3)
# Redis hands an unacknowledged task to another worker after this many seconds.
# It must exceed the longest build (the task's hard time limit is one hour).
BOOKBAG_BROKER_VISIBILITY_TIMEOUT = env.int("BOOKBAG_BROKER_VISIBILITY_TIMEOUT", default=65 * 60)
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": BOOKBAG_BROKER_VISIBILITY_TIMEOUT}
# The sweep fails a stale job only once Redis would have redelivered its task,
# so that a redelivered task gets to take the job over first.
BOOKBAG_EXPORT_STALE_FAIL_AFTER = env.int(
    "BOOKBAG_EXPORT_STALE_FAIL_AFTER", default=BOOKBAG_BROKER_VISIBILITY_TIMEOUT + BOOKBAG_EXPORT_HEARTBEAT_TIMEOUT
)
# Seconds to sleep after each chunk of rows; only tests set it, to stop a worker mid-build.
BOOKBAG_EXPORT_CHUNK_DELAY_SECONDS = 0.0
CELERY_BEAT_SCHEDULE = {
    "fail-stale-exports": {"task": "exports.fail_stale_exports", "schedule": 60.0},
}

# Webhooks: seconds a delivery waits to connect to the receiver, and then for each read of its response.
BOOKBAG_WEBHOOK_TIMEOUT_SECONDS = env.float("BOOKBAG_WEBHOOK_TIMEOUT_SECONDS", default=5.0)
