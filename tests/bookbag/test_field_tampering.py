"""Nobody sets a field they do not own, through extra JSON keys or tampered admin forms.

The API rule: a write body names only writable fields. Any other key, a
read-only field included, is rejected with 400 naming it, and nothing is
written. Actions without fields (claim, release, rerun) reject every key.
Admin forms read only their declared fields, so other posted keys have no
effect.
"""

import pytest
from django.forms.models import model_to_dict
from django.urls import reverse
from rest_framework.test import APIClient

from exports.models import ExportJob, WebhookEndpoint
from exports.webhooks.endpoints import webhook_endpoint_create
from reviews.models import Assignment, Queue, Review
from reviews.services import assignment_claim
from rubrics.models import Rubric
from tests.admin_forms import changeform_data
from tests.factories import ReviewFactory, ReviewItemFactory, RubricFactory, UserFactory

pytestmark = pytest.mark.django_db

# Keys that name fields the client does not own, or that are not fields of the endpoint at all.
FOREIGN_KEYS = ["reviewer", "state", "queue", "item", "submitted_at", "requester", "owner", "id", "created_at"]
WEBHOOK_URL = "https://127.0.0.1/bookbag-hook"


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def snapshot(model) -> list[dict]:
    return [model_to_dict(row) for row in model.objects.order_by("pk")]


def assert_rejected(response, key: str) -> None:
    assert response.status_code == 400, response.content
    body = response.json()
    assert key in body["errors"]
    assert key in body["message"]


@pytest.fixture
def other(db):
    return UserFactory(username="other-reviewer")


@pytest.fixture
def held(queue, reviewer):
    ReviewItemFactory(queue=queue)
    return assignment_claim(queue=queue, reviewer=reviewer)


@pytest.fixture
def endpoint(manager):
    return webhook_endpoint_create(actor=manager, url=WEBHOOK_URL, events=["export.succeeded"])


def write_cases(manager, reviewer, queue, held, endpoint, other):
    """Return (who, method, url, valid body, model whose rows must not change) per write endpoint."""
    rubric = RubricFactory()
    job = ExportJob.objects.create(requester=manager, filters={"queues": [queue.slug]})
    return {
        "queue-create": (manager, "post", "/api/v1/queues/", {"name": "Q", "slug": "q", "rubric": rubric.pk}, Queue),
        "queue-patch": (manager, "patch", f"/api/v1/queues/{queue.pk}/", {"lease_minutes": 7}, Queue),
        "queue-put": (
            manager, "put", f"/api/v1/queues/{queue.pk}/",
            {"name": queue.name, "slug": queue.slug, "rubric": queue.rubric_id}, Queue,
        ),
        "queue-claim": (reviewer, "post", f"/api/v1/queues/{queue.pk}/claim/", {}, Assignment),
        "assignment-review": (
            reviewer, "post", f"/api/v1/assignments/{held.pk}/review/", {"verdict": "approved"}, Review,
        ),
        "assignment-release": (reviewer, "post", f"/api/v1/assignments/{held.pk}/release/", {}, Assignment),
        "rubric-create": (manager, "post", "/api/v1/rubrics/", {"name": "R", "slug": "r"}, Rubric),
        "rubric-patch": (manager, "patch", f"/api/v1/rubrics/{rubric.pk}/", {"name": "Renamed"}, Rubric),
        "export-create": (manager, "post", "/api/v1/exports/", {"filters": {"queues": [queue.slug]}}, ExportJob),
        "export-rerun": (manager, "post", f"/api/v1/exports/{job.pk}/rerun/", {}, ExportJob),
        "webhook-create": (manager, "post", "/api/v1/webhooks/", {"url": WEBHOOK_URL, "events": ["export.failed"]},
                           WebhookEndpoint),
        "webhook-patch": (manager, "patch", f"/api/v1/webhooks/{endpoint.pk}/", {"is_active": False}, WebhookEndpoint),
    }


CASE_NAMES = [
    "queue-create", "queue-patch", "queue-put", "queue-claim", "assignment-review", "assignment-release",
    "rubric-create", "rubric-patch", "export-create", "export-rerun", "webhook-create", "webhook-patch",
]


@pytest.mark.parametrize("key", FOREIGN_KEYS)
@pytest.mark.parametrize("case", CASE_NAMES)
def test_api_write_rejects_foreign_key(case, key, manager, reviewer, queue, held, endpoint, other):
    who, method, url, body, model = write_cases(manager, reviewer, queue, held, endpoint, other)[case]
    before = snapshot(model)

    response = getattr(api(who), method)(url, {**body, key: other.pk}, format="json")

    assert_rejected(response, key)
    assert snapshot(model) == before


@pytest.mark.parametrize("key", ["reviewer", "state", "assignment", "submitted_at", "id"])
def test_item_ingest_rejects_foreign_key(manager, queue, key):
    payload = {
        "queue": queue.slug, "conversation": [{"role": "user", "content": "Hi"}],
        "response": {"role": "assistant", "content": "Hello"}, key: 1,
    }

    response = api(manager).post("/api/v1/items/", payload, format="json")

    assert_rejected(response, key)
    assert not queue.items.exists()


def test_valid_bodies_still_succeed(manager, reviewer, queue, held, endpoint, other):
    cases = write_cases(manager, reviewer, queue, held, endpoint, other)
    who, method, url, body, _ = cases["assignment-review"]

    response = getattr(api(who), method)(url, body, format="json")

    assert response.status_code == 201
    review = Review.objects.get()
    assert review.reviewer == reviewer
    assert review.item == held.item


def test_admin_review_form_ignores_foreign_fields(client, reviewer, other, held):
    client.force_login(reviewer)
    url = reverse("admin:workspace_assignment", args=[held.pk])
    tampered = {
        "verdict": "approved", "reviewer": other.pk, "state": "done", "item": held.item_id + 1,
        "submitted_at": "2001-01-01T00:00:00Z", "queue": held.queue_id + 1, "assignment": held.pk + 1,
    }

    client.post(url, tampered)

    review = Review.objects.get()
    assert review.reviewer == reviewer
    assert review.item_id == held.item_id
    assert review.assignment_id == held.pk
    assert review.submitted_at.year != 2001
    assert not Review.objects.filter(reviewer=other).exists()


def test_admin_queue_form_ignores_foreign_fields(client, manager, queue, other):
    client.force_login(manager)
    url = reverse("admin:reviews_queue_change", args=[queue.pk])
    data = changeform_data(client.get(url))
    data.update({"slug": "renamed", "created_by": other.pk, "id": queue.pk + 100, "lease_minutes": 9})

    client.post(url, data)

    queue.refresh_from_db()
    assert queue.lease_minutes == 9
    assert queue.slug != "renamed"
    assert queue.created_by_id != other.pk
    assert Queue.objects.filter(pk=queue.pk + 100).exists() is False


@pytest.mark.parametrize("view", ["reviews_review_change", "reviews_reviewitem_change", "reviews_assignment_change"])
def test_admin_read_only_pages_reject_posts(client, reviewer, held, view):
    review = ReviewFactory(item=held.item, assignment=held, reviewer=reviewer)
    object_id = {"reviews_review_change": review.pk, "reviews_reviewitem_change": held.item_id}.get(view, held.pk)
    client.force_login(reviewer)
    before = (snapshot(Review), snapshot(Assignment))

    response = client.post(
        reverse(f"admin:{view}", args=[object_id]),
        {"verdict": "rejected", "reviewer": reviewer.pk, "state": "done", "queue": held.queue_id},
    )

    assert response.status_code == 403
    assert (snapshot(Review), snapshot(Assignment)) == before


def test_reviewer_cannot_post_queue_change(client, reviewer, queue):
    client.force_login(reviewer)
    url = reverse("admin:reviews_queue_change", args=[queue.pk])

    response = client.post(url, {"name": "Hijacked", "lease_minutes": 1})

    queue.refresh_from_db()
    assert response.status_code == 403
    assert queue.name != "Hijacked"
