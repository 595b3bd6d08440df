"""The REST API root. Importing each app's API module registers its routes."""

import bookbag.audit.api  # noqa: F401
import exports.api  # noqa: F401
import reviews.api.items  # noqa: F401
import reviews.api.reviewing  # noqa: F401
import rubrics.api  # noqa: F401

from django.urls import re_path

from .errors import not_found
from .routers import router


def unknown_route(request, *args, **kwargs):
    return not_found(request)


# Last, so that a path no route matches gets the JSON error body even with DEBUG on, where Django would
# render its HTML 404 page instead of calling handler404.
urlpatterns = [*router.urls, re_path(r"^.*$", unknown_route, name="api-not-found")]
