"""Who reads which audit events: the rule in reviews.access, as the admin and the API apply it."""

import pytest

from bookbag.audit.models import AuditEvent
from exports.webhooks.endpoints import webhook_endpoint_create
from reviews.access import audit_events_visible, audit_queue_ids
from reviews.models import QueueMembership
from reviews.services import assignment_claim, queue_update
from rubrics.services import rubric_create
from tests.factories import ManagerFactory, MembershipFactory, QueueFactory, ReviewItemFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def other_manager(db):
    user = ManagerFactory(username="other-manager")
    other_queue = QueueFactory()
    MembershipFactory(queue=other_queue, user=user, role=QueueMembership.Role.MANAGER)
    queue_update(actor=user, queue=other_queue, lease_minutes=50)
    return user


def visible_actions(user) -> set[str]:
    return set(audit_events_visible(user).values_list("action", flat=True))


def test_manager_sees_items_and_assignments_of_managed_queue(queue, manager, reviewer):
    ReviewItemFactory(queue=queue)
    assignment_claim(queue=queue, reviewer=reviewer)

    assert "assignment.claim" in visible_actions(manager)


def test_manager_does_not_see_other_queue(queue, manager, other_manager):
    events = audit_events_visible(manager)

    assert not events.filter(actor=other_manager).exists()


def test_manager_sees_rubric_events(manager, other_manager):
    rubric_create(actor=other_manager, name="Tone", slug="tone")

    assert "rubric.create" in visible_actions(manager)


def test_manager_sees_own_webhook_events(manager, other_manager):
    webhook_endpoint_create(actor=manager, url="http://127.0.0.1:9/mine", events=["export.succeeded"])
    webhook_endpoint_create(actor=other_manager, url="http://127.0.0.1:9/theirs", events=["export.succeeded"])

    events = audit_events_visible(manager).filter(action="webhook.create")

    assert [event.actor_id for event in events] == [manager.pk]


def test_reviewer_sees_nothing(queue, manager, reviewer):
    queue_update(actor=manager, queue=queue, lease_minutes=45)

    assert visible_actions(reviewer) == set()


def test_lead_sees_nothing(queue, manager):
    lead = UserFactory(username="lead")
    MembershipFactory(queue=queue, user=lead, role=QueueMembership.Role.LEAD)
    queue_update(actor=manager, queue=queue, lease_minutes=45)

    assert visible_actions(lead) == set()


def test_superuser_sees_everything(queue, manager, other_manager):
    superuser = UserFactory(username="root", is_superuser=True)

    assert audit_events_visible(superuser).count() == AuditEvent.objects.count()


def test_review_belongs_to_item_queue(queue, reviewer):
    from reviews.services import review_submit
    from tests.factories import CriterionFactory

    CriterionFactory(rubric=queue.rubric, key="correct")
    ReviewItemFactory(queue=queue)
    assignment = assignment_claim(queue=queue, reviewer=reviewer)
    review = review_submit(assignment=assignment, reviewer=reviewer, verdict="approved", scores={"correct": True})

    assert audit_queue_ids(review) == [queue.pk]
