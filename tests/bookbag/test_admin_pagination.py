import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from bookbag import admin_pagination
from tests.factories import ReviewItemFactory

pytestmark = pytest.mark.django_db

ITEMS = reverse("admin:reviews_reviewitem_changelist")


def _count_queries(captured) -> list[str]:
    return [query["sql"] for query in captured.captured_queries if "COUNT(" in query["sql"].upper()]


def test_changelist_count_stops_at_limit(client, manager, queue, monkeypatch):
    monkeypatch.setattr(admin_pagination, "COUNT_LIMIT", 3)
    ReviewItemFactory.create_batch(5, queue=queue)
    client.force_login(manager)

    with CaptureQueriesContext(connection) as captured:
        response = client.get(ITEMS)

    counts = _count_queries(captured)
    assert len(counts) == 1
    assert "LIMIT 4" in counts[0]
    assert response.context["cl"].result_count == 3
    assert "more than 3 review items" in response.content.decode()


def test_changelist_below_limit_shows_exact_count(client, manager, queue):
    ReviewItemFactory.create_batch(2, queue=queue)
    client.force_login(manager)

    response = client.get(ITEMS)

    assert response.context["cl"].result_count == 2
    assert response.context["cl"].paginator.count_is_limited is False
    assert "2 review items" in response.content.decode()
    assert "more than" not in response.content.decode()


def test_changelist_never_counts_whole_table(client, manager, queue):
    ReviewItemFactory.create_batch(2, queue=queue)
    client.force_login(manager)

    with CaptureQueriesContext(connection) as captured:
        client.get(ITEMS, {"q": "no such item"})

    assert all("LIMIT" in sql for sql in _count_queries(captured))
