import pytest
from django.urls import reverse

from reviews.models import Review
from tests.factories import ReviewFactory, ReviewItemFactory, UserFactory

pytestmark = pytest.mark.django_db

HISTORY_URL = "/admin/workspace/history/"


def test_history_url_is_named():
    assert reverse("admin:workspace_history") == HISTORY_URL


def test_history_lists_own_reviews_only(client, reviewer, queue):
    mine = ReviewFactory(item=ReviewItemFactory(queue=queue), reviewer=reviewer, verdict="approved")
    ReviewFactory(item=ReviewItemFactory(queue=queue), reviewer=UserFactory(username="someone-else"))
    client.force_login(reviewer)

    response = client.get(HISTORY_URL)

    assert [review.pk for review in response.context["reviews"]] == [mine.pk]


def test_history_leaves_out_adjudications(client, reviewer, queue):
    ReviewFactory(item=ReviewItemFactory(queue=queue), reviewer=reviewer, kind=Review.Kind.ADJUDICATION)
    client.force_login(reviewer)

    response = client.get(HISTORY_URL)

    assert list(response.context["reviews"]) == []
    assert "You have not submitted any reviews yet." in response.content.decode()


def test_history_sanitises_rewrite(client, reviewer, queue):
    ReviewFactory(
        item=ReviewItemFactory(queue=queue), reviewer=reviewer, verdict="needs_fix",
        corrected_response="Use **this**. <script>alert(1)</script>",
    )
    client.force_login(reviewer)

    content = client.get(HISTORY_URL).content.decode()

    assert "Use <strong>this</strong>." in content
    assert "<script>alert(1)</script>" not in content


def test_history_pages_without_counting(client, reviewer, queue, django_assert_num_queries, monkeypatch):
    monkeypatch.setattr("reviews.admin.history.PAGE_SIZE", 2)
    items = ReviewItemFactory.create_batch(3, queue=queue)
    for item in items:
        ReviewFactory(item=item, reviewer=reviewer)
    client.force_login(reviewer)

    # Session, user, one page of reviews, two permission reads and the lead check for the admin navigation.
    with django_assert_num_queries(6):
        first = client.get(HISTORY_URL)
    second = client.get(HISTORY_URL, {"page": "2"})

    assert len(first.context["reviews"]) == 2
    assert first.context["next_page"] == 2
    assert len(second.context["reviews"]) == 1
    assert second.context["next_page"] is None
    assert second.context["previous_page"] == 1


@pytest.mark.parametrize("raw_page", ["abc", "-3", "0", ""])
def test_history_invalid_page_shows_first(client, reviewer, raw_page):
    client.force_login(reviewer)

    response = client.get(HISTORY_URL, {"page": raw_page})

    assert response.status_code == 200
    assert response.context["page"] == 1


def test_history_requires_staff_login(client):
    response = client.get(HISTORY_URL)

    assert response.status_code == 302
    assert "/admin/login/" in response.url


def test_history_page_past_end_links_first_page(client, reviewer):
    client.force_login(reviewer)

    content = client.get(HISTORY_URL, {"page": "9"}).content.decode()

    assert "No reviews on page 9." in content
