"""The project's URLs plus views that fail on purpose, to test what clients see when the server breaks."""

from django.urls import path
from rest_framework.response import Response
from rest_framework.views import APIView

from bookbag.urls import urlpatterns as project_urlpatterns
from rubrics.models import Rubric

SECRET_TEXT = "secret-internal-detail"


class CrashView(APIView):
    permission_classes = []

    def get(self, request):
        raise RuntimeError(f"unexpected failure with {SECRET_TEXT}")


class RacedInsertView(APIView):
    """Insert a rubric whose slug and version another request stored after validation passed."""

    permission_classes = []

    def post(self, request):
        Rubric.objects.create(name="Raced", slug=request.data["slug"], version=1)
        return Response({"created": True})


def plain_crash(request):
    raise RuntimeError(f"unexpected failure with {SECRET_TEXT}")


urlpatterns = [
    path("api/v1/test-crash/", CrashView.as_view()),
    path("api/v1/test-raced-insert/", RacedInsertView.as_view()),
    path("api/v1/test-plain-crash/", plain_crash),
    path("test-plain-crash/", plain_crash),
    *project_urlpatterns,
]

handler404 = "bookbag.api.errors.not_found"
handler500 = "bookbag.api.errors.server_error"
