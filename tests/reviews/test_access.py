import pytest
from django.contrib.auth.models import AnonymousUser

from reviews.access import can_adjudicate_any, items_visible
from reviews.models import QueueMembership
from tests.factories import ManagerFactory, MembershipFactory, QueueFactory, ReviewItemFactory, UserFactory

pytestmark = pytest.mark.django_db

Role = QueueMembership.Role


@pytest.mark.parametrize(("role", "expected"), [
    (Role.REVIEWER, False),
    (Role.LEAD, True),
    (Role.MANAGER, True),
])
def test_can_adjudicate_any_by_membership_role(role, expected):
    user = UserFactory()
    MembershipFactory(queue=QueueFactory(), user=user, role=role)

    assert can_adjudicate_any(user) is expected


def test_can_adjudicate_any_without_membership():
    assert can_adjudicate_any(UserFactory()) is False


def test_can_adjudicate_any_as_manager_without_queue():
    assert can_adjudicate_any(ManagerFactory()) is True


def test_can_adjudicate_any_as_admin():
    assert can_adjudicate_any(UserFactory(is_superuser=True)) is True


def test_can_adjudicate_any_as_inactive_lead():
    user = UserFactory(is_active=False)
    MembershipFactory(queue=QueueFactory(), user=user, role=Role.LEAD)

    assert can_adjudicate_any(user) is False


def test_can_adjudicate_any_as_anonymous():
    assert can_adjudicate_any(AnonymousUser()) is False


def test_items_visible_to_admin_include_unqueued():
    unqueued = ReviewItemFactory(queue=None)

    assert list(items_visible(UserFactory(is_superuser=True))) == [unqueued]


def test_items_visible_to_manager_exclude_unqueued(manager, queue):
    mine = ReviewItemFactory(queue=queue)
    ReviewItemFactory(queue=None)

    assert list(items_visible(manager)) == [mine]


def test_items_visible_to_inactive_admin_are_none():
    ReviewItemFactory(queue=None)

    assert not items_visible(UserFactory(is_superuser=True, is_active=False)).exists()
