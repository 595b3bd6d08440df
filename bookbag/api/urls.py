"""The REST API root. Importing each app's API module registers its routes."""

import bookbag.audit.api  # noqa: F401
import exports.api  # noqa: F401
import reviews.api.items  # noqa: F401
import reviews.api.reviewing  # noqa: F401
import rubrics.api  # noqa: F401

from django.urls import re_path
from django.views.decorators.csrf import csrf_exempt

from .errors import not_found
from .routers import router


# Exempt from CSRF because it changes nothing: a POST to a mistyped path gets the same JSON 404, not an HTML 403.
@csrf_exempt
def unknown_route(request, *args, **kwargs):
    return not_found(request)


# Last, so that a path no route matches gets the JSON error body even with DEBUG on, where Django would
# render its HTML 404 page instead of calling handler404.
urlpatterns = [*router.urls, re_path(r"^.*$", unknown_route, name="api-not-found")]
