"""``/api/v1/queues/``, ``/api/v1/assignments/`` and ``/api/v1/reviews/``: managing queues, claiming, reviewing and revising.

A queue or assignment outside the user's reach returns 404, the same as one
that does not exist. A token without the action's scope returns 403.
"""

import django_filters
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from bookbag.api.filters import BooleanFilter, IdFilter
from bookbag.api.pagination import SubmittedCursorPagination
from bookbag.api.routers import router
from bookbag.api.scoping import ScopedObjectMixin
from bookbag.api.serializers import body_reject_fields
from bookbag.tokens.models import Scope
from bookbag.tokens.permissions import HasScope

from ..access import queues_visible
from ..models import Assignment, Queue, Review
from ..services import assignment_claim, assignment_release, queue_delete, review_revise, review_submit
from .serializers import AssignmentSerializer, QueueSerializer, ReviewSerializer, ReviewSubmitSerializer

MANAGE_ACTIONS = ("create", "update", "partial_update", "destroy")


class QueueFilter(django_filters.FilterSet):
    """The queue list's query parameters: the admin's list filters (active, blind) and the slug."""

    slug = django_filters.CharFilter()
    is_active = BooleanFilter()
    blind = BooleanFilter()

    class Meta:
        model = Queue
        fields = ["slug", "is_active", "blind"]


@extend_schema_view(
    destroy=extend_schema(description="Delete a queue without items. A queue with items returns 409; pause it with is_active."),
)
class QueueViewSet(ScopedObjectMixin, viewsets.ModelViewSet):
    """Queues: managers create and manage them; members read the queues they belong to."""

    serializer_class = QueueSerializer
    permission_classes = [IsAuthenticated, HasScope]
    required_scopes = {"default": Scope.READ, "claim": Scope.REVIEW, **dict.fromkeys(MANAGE_ACTIONS, Scope.MANAGE)}
    filterset_class = QueueFilter

    def get_queryset(self):
        queues = queues_visible(self.request.user)
        if self.action == "claim":
            return queues
        return queues.prefetch_related("memberships__user")

    def perform_destroy(self, instance):
        queue_delete(actor=self.request.user, queue=instance)

    @extend_schema(
        request=None,
        responses={
            200: AssignmentSerializer,
            204: OpenApiResponse(description="Nothing in this queue is claimable for you now."),
        },
    )
    @action(detail=True, methods=["post"])
    def claim(self, request, pk=None):
        """Reserve the next item for you, or return the claim you already hold in this queue."""
        queue = self.get_object()
        body_reject_fields(request.data)
        assignment = assignment_claim(queue=queue, reviewer=request.user)
        if assignment is None:
            return Response(status=status.HTTP_204_NO_CONTENT)
        return Response(AssignmentSerializer(assignment).data)


class AssignmentFilter(django_filters.FilterSet):
    # A plain number filter, so a queue that is not yours gives the same empty page as a missing one.
    queue = IdFilter(field_name="queue_id", help_text="Queue id.")
    state = django_filters.ChoiceFilter(choices=Assignment.State.choices)

    class Meta:
        model = Assignment
        fields = ["queue", "state"]


class AssignmentViewSet(
    ScopedObjectMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Your own assignments in the queues you belong to."""

    # The schema generator reads the model from here; requests go through get_queryset.
    queryset = Assignment.objects.none()
    serializer_class = AssignmentSerializer
    permission_classes = [IsAuthenticated, HasScope]
    required_scopes = {"default": Scope.READ, "review": Scope.REVIEW, "release": Scope.REVIEW}
    filterset_class = AssignmentFilter

    def get_queryset(self):
        user = self.request.user
        return Assignment.objects.filter(reviewer=user, queue__in=queues_visible(user)).select_related("item", "queue")

    @extend_schema(request=ReviewSubmitSerializer, responses={201: ReviewSerializer})
    @action(detail=True, methods=["post"])
    def review(self, request, pk=None):
        """Submit your verdict on the item this assignment holds."""
        assignment = self.get_object()
        submission = ReviewSubmitSerializer(data=request.data)
        submission.is_valid(raise_exception=True)
        review = review_submit(assignment=assignment, reviewer=request.user, **submission.validated_data)
        return Response(ReviewSerializer(review).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={200: AssignmentSerializer})
    @action(detail=True, methods=["post"])
    def release(self, request, pk=None):
        """Give the item back to the queue without reviewing it."""
        assignment = self.get_object()
        body_reject_fields(request.data)
        assignment = assignment_release(assignment=assignment, reviewer=request.user)
        return Response(AssignmentSerializer(assignment).data)


class ReviewViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Your own reviews in the queues you belong to, every revision included, newest first."""

    # The schema generator reads the model from here; requests go through get_queryset.
    queryset = Review.objects.none()
    serializer_class = ReviewSerializer
    permission_classes = [IsAuthenticated, HasScope]
    required_scopes = {"default": Scope.READ, "revise": Scope.REVIEW}
    filterset_fields = ["item", "is_current"]
    pagination_class = SubmittedCursorPagination

    def get_queryset(self):
        user = self.request.user
        return (
            Review.objects.filter(reviewer=user, kind=Review.Kind.REVIEW, item__queue__in=queues_visible(user))
            .select_related("reviewer", "rubric")
        )

    @extend_schema(
        request=ReviewSubmitSerializer,
        responses={201: ReviewSerializer},
        description=(
            "Replace your review with a new revision while the queue's edit window is open; the earlier "
            "revision is kept. Takes the same fields as a review. A closed window or a replaced review returns 409."
        ),
    )
    @action(detail=True, methods=["post"])
    def revise(self, request, pk=None):
        """Revise your review within the queue's edit window."""
        review = self.get_object()
        submission = ReviewSubmitSerializer(data=request.data)
        submission.is_valid(raise_exception=True)
        revision = review_revise(review=review, reviewer=request.user, **submission.validated_data)
        return Response(ReviewSerializer(revision).data, status=status.HTTP_201_CREATED)


router.register("queues", QueueViewSet, basename="queue")
router.register("assignments", AssignmentViewSet, basename="assignment")
router.register("reviews", ReviewViewSet, basename="review")
