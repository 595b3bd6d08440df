"""Settings for a laptop: debug on, a fixed development secret key."""

from .base import *  # noqa: F403
from .base import env

DEBUG = env.bool("DJANGO_DEBUG", default=True)
SECRET_KEY = env("DJANGO_SECRET_KEY", default="bookbag-local-development-key-not-for-production")
