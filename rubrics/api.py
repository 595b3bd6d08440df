"""``/api/v1/rubrics/``: rubric versions for managers, read access for their reviewers."""

import django_filters
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import viewsets
from rest_framework.permissions import IsAuthenticated

from bookbag.api.filters import IdFilter
from bookbag.api.routers import router
from bookbag.api.scoping import ScopedObjectMixin
from bookbag.tokens.models import Scope
from bookbag.tokens.permissions import HasScope
from reviews.access import rubrics_visible

from .models import Rubric
from .serializers import RubricSerializer
from .services import rubric_delete


class RubricFilter(django_filters.FilterSet):
    slug = django_filters.CharFilter()
    version = IdFilter(help_text="Version number, from 1.")

    class Meta:
        model = Rubric
        fields = ["slug", "version"]


@extend_schema_view(
    update=extend_schema(description="Edit a rubric. A version that reviews reference stays as it is: the change "
                         "becomes the next version, returned here with its new id, and its queues move to it."),
    partial_update=extend_schema(description="Edit some fields of a rubric; see update for versioning."),
    destroy=extend_schema(description="Delete a version that no queue uses and no review references (else 409)."),
)
class RubricViewSet(ScopedObjectMixin, viewsets.ModelViewSet):
    """Rubric versions. Managers see and edit every rubric; reviewers read their queues' rubrics."""

    serializer_class = RubricSerializer
    permission_classes = [IsAuthenticated, HasScope]
    required_scopes = {
        "default": Scope.READ,
        "create": Scope.MANAGE,
        "update": Scope.MANAGE,
        "partial_update": Scope.MANAGE,
        "destroy": Scope.MANAGE,
    }
    filterset_class = RubricFilter

    def get_queryset(self):
        return rubrics_visible(self.request.user).prefetch_related("criteria")

    def perform_destroy(self, instance):
        rubric_delete(actor=self.request.user, rubric=instance)


router.register("rubrics", RubricViewSet, basename="rubric")
