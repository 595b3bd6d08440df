import pytest
from django.core.exceptions import ValidationError

from bookbag.audit.models import AuditEvent
from bookbag.errors import Conflict, PermissionDenied
from reviews.models import Assignment, Queue, QueueMembership
from reviews.services import assignment_claim, queue_create, queue_delete, queue_update
from rubrics.services import rubric_update
from tests.factories import CriterionFactory, ReviewFactory, ReviewItemFactory, RubricFactory, UserFactory

pytestmark = pytest.mark.django_db


def _roles(queue: Queue) -> dict[str, str]:
    return dict(queue.memberships.values_list("user__username", "role"))


@pytest.fixture
def people(db):
    return [UserFactory(username=name) for name in ("ana", "ben", "cai")]


def test_create_adds_creator_reviewers_and_leads(manager, people):
    queue = queue_create(
        actor=manager, name="Support", slug="support", rubric=RubricFactory(), reviewers=["ana", "ben"], leads=["cai"]
    )

    assert _roles(queue) == {"manager": "manager", "ana": "reviewer", "ben": "reviewer", "cai": "lead"}
    assert AuditEvent.objects.filter(action="membership.set").count() == 4


def test_create_with_unknown_reviewer_writes_nothing(manager):
    with pytest.raises(ValidationError, match="User 'nobody' not found; create the account first."):
        queue_create(actor=manager, name="Support", slug="support", rubric=RubricFactory(), reviewers=["nobody"])

    assert not Queue.objects.filter(slug="support").exists()


def test_create_with_user_in_both_roles_is_invalid(manager, people):
    with pytest.raises(ValidationError, match="User 'ana' is listed as both reviewer and lead"):
        queue_create(
            actor=manager, name="Support", slug="support", rubric=RubricFactory(), reviewers=["ana"], leads=["ana"]
        )


def test_create_with_creator_as_reviewer_is_invalid(manager):
    with pytest.raises(ValidationError, match="User 'manager' manages queue 'support'"):
        queue_create(actor=manager, name="Support", slug="support", rubric=RubricFactory(), reviewers=["manager"])

    assert not Queue.objects.filter(slug="support").exists()


def test_create_on_old_rubric_version_is_invalid(manager):
    rubric = RubricFactory(slug="helpfulness")
    CriterionFactory(rubric=rubric, key="correct")
    ReviewFactory(item=ReviewItemFactory(queue__rubric=rubric))
    latest = rubric_update(actor=manager, rubric=rubric, name="Helpfulness v2")

    with pytest.raises(ValidationError) as raised:
        queue_create(actor=manager, name="Support", slug="support", rubric=rubric)

    assert raised.value.message_dict["rubric"] == [
        f"Rubric 'helpfulness' v1 is an old version; use v2 (id {latest.pk})."
    ]


def test_create_by_reviewer_is_denied(reviewer):
    with pytest.raises(PermissionDenied, match="Only managers create queues."):
        queue_create(actor=reviewer, name="Support", slug="support", rubric=RubricFactory())


def test_update_replaces_reviewers(manager, queue, people):
    queue_update(actor=manager, queue=queue, reviewers=["ana", "ben"])

    queue_update(actor=manager, queue=queue, reviewers=["ben", "cai"])

    assert _roles(queue) == {"manager": "manager", "ben": "reviewer", "cai": "reviewer"}


def test_update_drops_member_and_releases_claim(manager, queue, reviewer):
    ReviewItemFactory(queue=queue)
    assignment = assignment_claim(queue=queue, reviewer=reviewer)

    queue_update(actor=manager, queue=queue, reviewers=[])

    assignment.refresh_from_db()
    assert assignment.state == Assignment.State.RELEASED
    assert "reviewer" not in _roles(queue)


def test_update_moving_reviewer_to_lead_keeps_claim(manager, queue, reviewer):
    ReviewItemFactory(queue=queue)
    assignment = assignment_claim(queue=queue, reviewer=reviewer)

    queue_update(actor=manager, queue=queue, reviewers=[], leads=["reviewer"])

    assignment.refresh_from_db()
    assert assignment.state == Assignment.State.CLAIMED
    assert _roles(queue)["reviewer"] == QueueMembership.Role.LEAD


def test_update_without_lists_keeps_members(manager, queue, reviewer):
    queue_update(actor=manager, queue=queue, lease_minutes=10)

    assert _roles(queue) == {"manager": "manager", "reviewer": "reviewer"}
    queue.refresh_from_db()
    assert queue.lease_minutes == 10


def test_update_by_member_reviewer_is_denied(queue, reviewer):
    with pytest.raises(PermissionDenied, match="You do not manage queue"):
        queue_update(actor=reviewer, queue=queue, reviewers=[])

    assert "reviewer" in _roles(queue)


def test_delete_empty_queue(manager, queue):
    pk = queue.pk

    queue_delete(actor=manager, queue=queue)

    assert not Queue.objects.filter(pk=pk).exists()
    assert AuditEvent.objects.filter(action="queue.delete", object_id=str(pk)).count() == 1


def test_delete_queue_with_items_is_conflict(manager, queue):
    ReviewItemFactory.create_batch(2, queue=queue)

    with pytest.raises(Conflict, match=f"Queue '{queue.slug}' contains 2 item"):
        queue_delete(actor=manager, queue=queue)

    assert Queue.objects.filter(pk=queue.pk).exists()


def test_delete_by_reviewer_is_denied(queue, reviewer):
    with pytest.raises(PermissionDenied):
        queue_delete(actor=reviewer, queue=queue)

    assert Queue.objects.filter(pk=queue.pk).exists()
