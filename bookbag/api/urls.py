"""The REST API root. Importing each app's API module registers its routes."""

import bookbag.audit.api  # noqa: F401
import exports.api  # noqa: F401
import reviews.api.items  # noqa: F401
import reviews.api.reviewing  # noqa: F401
import rubrics.api  # noqa: F401

from .routers import router

urlpatterns = router.urls
