"""The viewset base of every API object route: a request for an object out of scope is logged, then gets a 404."""

from django.http import Http404

from bookbag.errors import PermissionDenied
from reviews.access import denial_log


class ScopedObjectMixin:
    """Log ``access.denied`` when ``get_object`` refuses an object that exists.

    The response stays the one for a missing object (404, or 403 where the
    whole route is beyond the user's role), so clients learn nothing more.
    """

    def get_object(self):
        try:
            return super().get_object()
        except (Http404, PermissionDenied):
            lookup = self.lookup_url_kwarg or self.lookup_field
            model = self.get_serializer_class().Meta.model
            denial_log(user=self.request.user, model=model, object_id=self.kwargs.get(lookup), channel="api")
            raise
