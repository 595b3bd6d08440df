"""Queue, assignment and review payloads of the API: fields in, a service call, the result out."""

from rest_framework import serializers

from bookbag.api.serializers import RejectUnknownFieldsMixin
from rubrics.models import Rubric

from ..models import Assignment, Queue, QueueMembership, Review, ReviewItem
from ..services import queue_create, queue_update

# A lease lasts at most 24 hours (Queue.lease_minutes), so no honest review takes longer.
MAX_TIME_SPENT_SECONDS = 24 * 60 * 60


class MemberUsernamesField(serializers.ListField):
    """The usernames of a queue's members in one role, read from its prefetched memberships."""

    def __init__(self, *, role: str, **kwargs) -> None:
        self.role = role
        super().__init__(child=serializers.CharField(max_length=150), **kwargs)

    def get_attribute(self, queue: Queue) -> list[str]:
        return sorted(
            membership.user.get_username() for membership in queue.memberships.all() if membership.role == self.role
        )


class QueueSerializer(RejectUnknownFieldsMixin, serializers.ModelSerializer):
    rubric = serializers.PrimaryKeyRelatedField(queryset=Rubric.objects.all())
    reviewers = MemberUsernamesField(role=QueueMembership.Role.REVIEWER, required=False)
    leads = MemberUsernamesField(role=QueueMembership.Role.LEAD, required=False)
    managers = MemberUsernamesField(role=QueueMembership.Role.MANAGER, read_only=True)

    class Meta:
        model = Queue
        fields = [
            "id", "name", "slug", "rubric", "reviewers", "leads", "managers",
            "reviews_per_item", "lease_minutes", "blind", "disagreement_threshold", "edit_window_minutes",
            "is_active", "created_at", "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]

    def create(self, validated_data):
        return queue_create(actor=self.context["request"].user, **validated_data)

    def update(self, instance, validated_data):
        return queue_update(actor=self.context["request"].user, queue=instance, **validated_data)


class ItemSerializer(serializers.ModelSerializer):
    """The item a reviewer judges, with what a client needs to offer a turn choice or a pairwise pick.

    Gold answers are for managers only, so this payload never includes them.
    """

    candidates = serializers.SerializerMethodField(
        help_text="On a pairwise item, the two replies to compare: a (response) and b (reference_response); else empty."
    )
    selectable_turns = serializers.SerializerMethodField(
        help_text=(
            "On a turn_selectable item, the positions in conversation + [response] of the assistant turns that "
            "turn_index may name; else empty."
        )
    )

    class Meta:
        model = ReviewItem
        fields = [
            "id", "source", "external_id", "conversation", "response", "reference_response", "model", "metadata",
            "is_pairwise", "turn_selectable", "candidates", "selectable_turns",
        ]
        read_only_fields = fields

    def get_candidates(self, item: ReviewItem) -> list[dict]:
        if not item.is_pairwise:
            return []
        return [
            {"preferred": Review.Preference.A.value, "message": item.response},
            {"preferred": Review.Preference.B.value, "message": item.reference_response},
        ]

    def get_selectable_turns(self, item: ReviewItem) -> list[int]:
        if not item.turn_selectable:
            return []
        return [index for index, message in enumerate(item.transcript) if message.get("role") == "assistant"]


class AssignmentSerializer(serializers.ModelSerializer):
    item = ItemSerializer(read_only=True)
    rubric = serializers.IntegerField(source="queue.rubric_id", read_only=True, help_text="The rubric the queue uses now.")

    class Meta:
        model = Assignment
        fields = ["id", "queue", "rubric", "state", "claimed_at", "expires_at", "finished_at", "item"]
        read_only_fields = fields


class ReviewSerializer(serializers.ModelSerializer):
    reviewer = serializers.CharField(source="reviewer.get_username", read_only=True)
    rubric_version = serializers.IntegerField(source="rubric.version", read_only=True)
    preferred = serializers.ChoiceField(
        choices=Review.Preference.choices, allow_blank=True, read_only=True,
        help_text="The candidate picked on a pairwise item (a or b); empty on other items.",
    )

    class Meta:
        model = Review
        fields = [
            "id", "item", "assignment", "kind", "reviewer", "rubric", "rubric_version", "verdict", "scores",
            "corrected_response", "reason", "time_spent_seconds", "submitted_at", "turn_index", "preferred",
            "supersedes", "is_current",
        ]
        read_only_fields = fields


class ReviewSubmitSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    verdict = serializers.ChoiceField(choices=Review.Verdict.choices)
    scores = serializers.DictField(required=False, default=dict, help_text="Scores keyed by criterion key.")
    corrected_response = serializers.CharField(
        required=False, default="", allow_blank=True, trim_whitespace=False,
        help_text="The rewritten reply; required for needs_fix and different from the original.",
    )
    reason = serializers.CharField(
        required=False, default="", allow_blank=True, help_text="Why the reply is rejected; required for rejected."
    )
    time_spent_seconds = serializers.IntegerField(
        required=False, default=0, min_value=0, max_value=MAX_TIME_SPENT_SECONDS
    )
    turn_index = serializers.IntegerField(
        required=False, default=None, allow_null=True, min_value=0,
        help_text="On a turn_selectable item, the assistant turn under review (one of the item's selectable_turns).",
    )
    preferred = serializers.ChoiceField(
        choices=Review.Preference.choices, required=False, default="", allow_blank=True,
        help_text="On a pairwise item, the better candidate: a or b. Required there, empty otherwise.",
    )
