"""Settings for the ``celery worker`` processes that integration tests start.

They add what only tests need: Redis hands back an abandoned task within
seconds instead of minutes, and ``BOOKBAG_TEST_CHUNK_DELAY_SECONDS`` slows each
chunk of a build so that a test can stop the worker mid-build.
"""

from bookbag.settings.local import *  # noqa: F403
from bookbag.settings.local import env

CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env.int("BOOKBAG_BROKER_VISIBILITY_TIMEOUT", default=65 * 60),
    # Look for abandoned tasks every second instead of about every 100 seconds.
    "unacked_restore_interval": 1,
    "unacked_restore_throttle": 1,
}
BOOKBAG_EXPORT_CHUNK_DELAY_SECONDS = env.float("BOOKBAG_TEST_CHUNK_DELAY_SECONDS", default=0.0)
