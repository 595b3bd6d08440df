import os

import pytest

from reviews.models import QueueMembership
from tests.factories import ManagerFactory, MembershipFactory, QueueFactory, UserFactory

REQUIRE_SERVICES = os.environ.get("BOOKBAG_REQUIRE_SERVICES") == "1"


def skip_or_fail(reason: str) -> None:
    """Skip a test whose service is missing, or fail it where CI requires every service."""
    if REQUIRE_SERVICES:
        pytest.fail(f"{reason} (BOOKBAG_REQUIRE_SERVICES=1 makes this a failure)")
    pytest.skip(reason)


def pytest_collection_modifyitems(config, items):
    """Deselect SQLite-only tests when the suite runs on another database."""
    from django.db import connection

    if connection.vendor == "sqlite":
        return
    kept = [item for item in items if not item.get_closest_marker("sqlite")]
    config.hook.pytest_deselected(items=[item for item in items if item.get_closest_marker("sqlite")])
    items[:] = kept


def pytest_runtest_setup(item):
    if item.get_closest_marker("postgres") or item.get_closest_marker("integration"):
        from django.db import connection

        if connection.vendor != "postgresql":
            skip_or_fail("needs PostgreSQL: set DATABASE_URL=postgres://postgres@127.0.0.1:5432/bookbag")


@pytest.fixture(autouse=True)
def _empty_cache():
    """Start every test with no throttle counts, because user ids repeat across rolled-back tests."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def manager(db):
    return ManagerFactory(username="manager")


@pytest.fixture
def queue(db, manager):
    queue = QueueFactory()
    MembershipFactory(queue=queue, user=manager, role=QueueMembership.Role.MANAGER)
    return queue


@pytest.fixture
def reviewer(db, queue):
    user = UserFactory(username="reviewer")
    MembershipFactory(queue=queue, user=user, role=QueueMembership.Role.REVIEWER)
    return user


@pytest.fixture
def outsider(db):
    """A staff user who belongs to no queue."""
    return UserFactory(username="outsider")
