"""Settings for the test suite: in-memory SQLite unless DATABASE_URL is set."""

from .base import *  # noqa: F403
from .base import database_config, env

SECRET_KEY = "bookbag-test-key"
DATABASES = {"default": database_config(env("DATABASE_URL", default="sqlite://:memory:"))}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CELERY_BROKER_URL = "memory://localhost//"
CELERY_TASK_ALWAYS_EAGER = True
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "bookbag-test"}}
LOGGING = {"version": 1, "disable_existing_loggers": False}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # pytest-django empties tables with TRUNCATE after transactional tests; the audit trigger lets that pass only here.
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c bookbag.audit_truncate=on"
