"""Settings for a laptop: debug on, a fixed development secret key."""

from .base import *  # noqa: F403
from .base import env

DEBUG = env.bool("DJANGO_DEBUG", default=True)
LOGGING["root"]["level"] = env("BOOKBAG_LOG_LEVEL", default="WARNING")  # noqa: F405
SECRET_KEY = env("DJANGO_SECRET_KEY", default="bookbag-local-development-key-not-for-production")

# The SQLite file and media live here; SQLite cannot create the folder itself.
DATA_DIR.mkdir(parents=True, exist_ok=True)  # noqa: F405
