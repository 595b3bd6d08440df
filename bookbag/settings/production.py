"""Settings for a deployment: every secret comes from the environment, with no default.

Booting without DJANGO_SECRET_KEY, DJANGO_ALLOWED_HOSTS or DATABASE_URL
raises ImproperlyConfigured that names the variable and what to set it to.
"""

import os

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import database_config, env

# Django's check --deploy rejects keys shorter than this (security.W009).
MIN_SECRET_KEY_LENGTH = 50


def required_env(name: str, hint: str) -> str:
    """Return the environment variable ``name``, or raise ImproperlyConfigured with ``hint`` on what to set."""
    value = os.environ.get(name, "").strip()
    if not value:
        raise ImproperlyConfigured(f"{name} is not set; production settings need it: {hint}")
    return value


DEBUG = False
SECRET_KEY = required_env(
    "DJANGO_SECRET_KEY",
    f"a random string of at least {MIN_SECRET_KEY_LENGTH} characters, "
    "e.g. from python -c 'import secrets; print(secrets.token_urlsafe(50))'.",
)
if len(SECRET_KEY) < MIN_SECRET_KEY_LENGTH or SECRET_KEY.startswith("django-insecure-"):
    raise ImproperlyConfigured(
        f"DJANGO_SECRET_KEY is too weak: use a random string of at least {MIN_SECRET_KEY_LENGTH} characters."
    )
ALLOWED_HOSTS = [
    host.strip()
    for host in required_env("DJANGO_ALLOWED_HOSTS", "a comma-separated list of the host names Bookbag serves.").split(",")
    if host.strip()
]
DATABASES = {
    "default": database_config(
        required_env("DATABASE_URL", "a database URL such as postgres://USER:PASSWORD@HOST:5432/NAME.")
    )
}

SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
