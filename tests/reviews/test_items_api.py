import datetime

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from bookbag.audit.models import AuditEvent
from bookbag.tokens.services import token_create
from reviews.models import QueueMembership, ReviewItem
from tests.factories import ManagerFactory, MembershipFactory, QueueFactory, ReviewItemFactory, UserFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/items/"


def client_for(user, scopes: list[str] | None = None) -> APIClient:
    _, key = token_create(user=user, scopes=scopes)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def item(queue, text: str = "Restart the router.", **extra) -> dict:
    return {
        "queue": queue.slug,
        "conversation": [{"role": "user", "content": "The WAN light blinks amber."}],
        "response": text,
        **extra,
    }


@pytest.fixture
def ingest_client(manager):
    return client_for(manager, ["ingest", "read"])


def test_post_one_item(ingest_client, queue, manager):
    response = ingest_client.post(URL, item(queue, external_id="t-1", model="bot-v1"), format="json")

    assert response.status_code == 201
    stored = ReviewItem.objects.get()
    assert response.json() == {
        "created": 1, "duplicates": 0, "unqueued": 0,
        "items": [{"id": stored.pk, "source": "api", "external_id": "t-1", "created": True, "queue": queue.slug}],
    }
    assert stored.queue == queue
    assert stored.response == {"role": "assistant", "content": "Restart the router."}
    assert stored.model == "bot-v1"
    assert stored.created_by == manager


def test_post_list_keeps_order(ingest_client, queue):
    payload = [item(queue, "A."), item(queue, "B.", source="bot"), item(queue, "C.")]

    response = ingest_client.post(URL, payload, format="json")

    assert response.status_code == 201
    body = response.json()
    assert (body["created"], body["duplicates"]) == (3, 0)
    contents = [ReviewItem.objects.get(pk=row["id"]).response["content"] for row in body["items"]]
    assert contents == ["A.", "B.", "C."]
    assert [row["source"] for row in body["items"]] == ["api", "bot", "api"]


def test_post_same_list_twice_is_idempotent(ingest_client, queue):
    payload = [item(queue, "A."), item(queue, "B.", external_id="b")]
    first = ingest_client.post(URL, payload, format="json").json()

    again = ingest_client.post(URL, payload, format="json")

    assert again.status_code == 201
    assert (again.json()["created"], again.json()["duplicates"]) == (0, 2)
    assert [row["id"] for row in again.json()["items"]] == [row["id"] for row in first["items"]]
    assert [row["created"] for row in again.json()["items"]] == [False, False]
    assert ReviewItem.objects.count() == 2


def test_post_response_as_message_with_tool_calls(ingest_client, queue):
    call = {"id": "call_1", "type": "function", "function": {"name": "lookup", "arguments": "{\"id\": 7}"}}
    payload = item(queue, reference_response="Try turning it off and on.")
    payload["response"] = {"role": "assistant", "content": None, "tool_calls": [call]}

    response = ingest_client.post(URL, payload, format="json")

    assert response.status_code == 201
    stored = ReviewItem.objects.get()
    assert stored.response == {"role": "assistant", "content": "", "tool_calls": [call]}
    assert stored.reference_response == {"role": "assistant", "content": "Try turning it off and on."}


def test_list_with_one_invalid_item_writes_nothing(ingest_client, queue):
    bad = item(queue, "B.")
    bad["conversation"] = [{"role": "bot", "content": "Hi"}]

    response = ingest_client.post(URL, [item(queue, "A."), bad, item(queue, "C.")], format="json")

    assert response.status_code == 400
    assert response.json()["message"] == (
        "items[1].conversation[0].role: unknown role 'bot'; use system, user, assistant or tool"
    )
    assert ReviewItem.objects.count() == 0


def test_list_names_every_invalid_item(ingest_client, queue):
    response = ingest_client.post(URL, [item(queue, ""), item(queue, "B."), {"queue": queue.slug}], format="json")

    assert response.status_code == 400
    assert response.json()["errors"] == {
        "items[0].response": ["empty text; give the reply to review"],
        "items[2].conversation": ["missing; an item needs the conversation and the response under review"],
    }


def test_list_with_clashing_id_writes_nothing(ingest_client, queue):
    ingest_client.post(URL, item(queue, "A.", external_id="t-1"), format="json")

    response = ingest_client.post(
        URL, [item(queue, "New.", external_id="t-2"), item(queue, "Changed.", external_id="t-1")], format="json"
    )

    assert response.status_code == 400
    assert response.json()["message"].startswith(
        "items[1].external_id: source 'api' and external_id 't-1' already belong to item"
    )
    assert not ReviewItem.objects.filter(external_id="t-2").exists()


def test_single_invalid_item_names_field(ingest_client, queue):
    response = ingest_client.post(URL, {**item(queue), "respnse": "typo"}, format="json")

    assert response.status_code == 400
    assert response.json()["message"].startswith("respnse: unknown field; an item has queue, conversation, response")


def test_item_lists_every_invalid_field(ingest_client, queue):
    response = ingest_client.post(URL, item(queue, "", colour="red", size=2), format="json")

    assert response.status_code == 400
    errors = response.json()["errors"]
    assert list(errors) == ["colour", "size", "response"]
    assert errors["colour"][0].startswith("unknown field; an item has queue, conversation, response")
    assert errors["size"][0].startswith("unknown field; an item has queue, conversation, response")
    assert errors["response"] == ["empty text; give the reply to review"]
    assert ReviewItem.objects.count() == 0


def test_list_names_unknown_keys_by_index(ingest_client, queue):
    response = ingest_client.post(URL, [item(queue, "A."), item(queue, "B.", colour="red")], format="json")

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["items[1].colour"]


def test_nul_character_rejected(ingest_client, queue):
    response = ingest_client.post(
        URL, '{"queue": "%s", "conversation": [{"role": "user", "content": "Hi"}], "response": "Yes\\u0000"}'
        % queue.slug, content_type="application/json",
    )

    assert response.status_code == 400
    assert response.json()["message"] == "response: NUL character (U+0000) at position 3; remove it from the text"
    assert ReviewItem.objects.count() == 0


def test_more_than_1000_items_rejected(ingest_client, queue):
    payload = [item(queue, f"Reply {n}.") for n in range(1001)]

    response = ingest_client.post(URL, payload, format="json")

    assert response.status_code == 400
    reason = "1001 items, more than the maximum of 1000 per request; split the list"
    assert response.json() == {"code": "invalid", "message": f"items: {reason}", "errors": {"items": [reason]}}
    assert ReviewItem.objects.count() == 0


def test_exactly_1000_items_accepted(ingest_client, queue):
    response = ingest_client.post(URL, [item(queue, f"Reply {n}.") for n in range(1000)], format="json")

    assert response.status_code == 201
    assert response.json()["created"] == 1000


def test_empty_list_rejected(ingest_client):
    response = ingest_client.post(URL, [], format="json")

    assert response.status_code == 400
    assert response.json()["message"] == "items: empty list; send at least one item"


def test_reviewer_without_ingest_scope_gets_403(queue, reviewer):
    response = client_for(reviewer).post(URL, item(queue), format="json")

    assert response.status_code == 403
    assert "lacks the 'ingest' scope" in response.json()["message"]
    assert ReviewItem.objects.count() == 0


def test_read_only_token_cannot_post(queue, manager):
    response = client_for(manager, ["read"]).post(URL, item(queue), format="json")

    assert response.status_code == 403
    assert ReviewItem.objects.count() == 0


def test_manager_of_other_queue_gets_404(ingest_client, queue):
    other = QueueFactory(slug="billing")
    MembershipFactory(queue=other, user=ManagerFactory(username="other-manager"), role=QueueMembership.Role.MANAGER)

    response = ingest_client.post(URL, [item(queue, "A."), item(other, "B.")], format="json")

    assert response.status_code == 404
    assert response.json()["message"].startswith("Queue 'billing' not found among the queues you manage")
    assert ReviewItem.objects.count() == 0


def test_unknown_queue_gets_404(ingest_client, queue):
    response = ingest_client.post(URL, {**item(queue), "queue": "no-such-queue"}, format="json")

    assert response.status_code == 404
    assert response.json()["message"].startswith("Queue 'no-such-queue' not found")


def test_manager_who_reviews_in_queue_gets_404(queue, reviewer):
    reviewing_manager = ManagerFactory(username="reviewing-manager")
    MembershipFactory(queue=queue, user=reviewing_manager, role=QueueMembership.Role.REVIEWER)

    response = client_for(reviewing_manager, ["ingest"]).post(URL, item(queue), format="json")

    assert response.status_code == 404
    assert ReviewItem.objects.count() == 0


def test_post_into_two_managed_queues(ingest_client, queue, manager):
    second = QueueFactory()
    MembershipFactory(queue=second, user=manager, role=QueueMembership.Role.MANAGER)

    response = ingest_client.post(URL, [item(second, "A."), item(queue, "B."), item(second, "C.")], format="json")

    assert response.status_code == 201
    queues = [ReviewItem.objects.get(pk=row["id"]).queue for row in response.json()["items"]]
    assert queues == [second, queue, second]


def test_post_is_audited_on_api_channel(ingest_client, queue, manager):
    response = ingest_client.post(URL, item(queue), format="json", HTTP_X_REQUEST_ID="req-42")

    event = AuditEvent.objects.get(action="item.create")
    assert event.object_id == str(response.json()["items"][0]["id"])
    assert (event.actor, event.channel, event.request_id) == (manager, "api", "req-42")


def test_unauthenticated_post_rejected(queue):
    response = APIClient().post(URL, item(queue), format="json")

    assert response.status_code == 401
    assert ReviewItem.objects.count() == 0


def test_reviewer_lists_only_own_queue_items(queue, reviewer):
    mine = ReviewItemFactory(queue=queue)
    ReviewItemFactory(queue=QueueFactory())

    response = client_for(reviewer).get(URL)

    assert response.status_code == 200
    assert [row["id"] for row in response.json()["results"]] == [mine.pk]
    assert response.json()["results"][0]["queue"] == queue.slug


def test_reviewer_gets_404_for_other_queue_item(queue, reviewer):
    other = ReviewItemFactory(queue=QueueFactory())

    response = client_for(reviewer).get(f"{URL}{other.pk}/")

    assert response.status_code == 404
    assert response.json()["message"] == f"Item {other.pk} not found in the queues you belong to; check the id."


def test_reviewer_reads_own_queue_item(queue, reviewer):
    mine = ReviewItemFactory(queue=queue, reference_response={"role": "assistant", "content": "Check the cable."})

    response = client_for(reviewer).get(f"{URL}{mine.pk}/")

    assert response.status_code == 200
    assert response.json()["reference_response"] == {"role": "assistant", "content": "Check the cable."}
    assert response.json()["conversation"] == mine.conversation


def test_outsider_lists_nothing(queue, outsider):
    ReviewItemFactory(queue=queue)

    response = client_for(outsider).get(URL)

    assert response.json()["results"] == []


def test_list_filters(queue, reviewer):
    match = ReviewItemFactory(queue=queue, source="bot", model="bot-v2")
    ReviewItemFactory(queue=queue, source="bot", model="bot-v1")
    ReviewItemFactory(queue=queue, source="other", model="bot-v2")
    ReviewItemFactory(queue=queue, source="bot", model="bot-v2", state=ReviewItem.State.DONE)

    response = client_for(reviewer).get(URL, {"queue": queue.slug, "source": "bot", "model": "bot-v2", "state": "pending"})

    assert [row["id"] for row in response.json()["results"]] == [match.pk]


def test_list_filters_by_external_id(queue, reviewer):
    match = ReviewItemFactory(queue=queue, external_id="conv-7")
    ReviewItemFactory(queue=queue, external_id="conv-8")

    response = client_for(reviewer).get(URL, {"external_id": "conv-7"})

    assert [row["id"] for row in response.json()["results"]] == [match.pk]


def test_list_filters_created_range(queue, reviewer):
    old = ReviewItemFactory(queue=queue)
    ReviewItem.objects.filter(pk=old.pk).update(created_at=timezone.now() - datetime.timedelta(days=3))
    new = ReviewItemFactory(queue=queue)
    day_ago = (timezone.now() - datetime.timedelta(days=1)).isoformat()
    client = client_for(reviewer)

    after = client.get(URL, {"created_after": day_ago})
    before = client.get(URL, {"created_before": day_ago})

    assert [row["id"] for row in after.json()["results"]] == [new.pk]
    assert [row["id"] for row in before.json()["results"]] == [old.pk]


def test_list_rejects_unknown_state(queue, reviewer):
    response = client_for(reviewer).get(URL, {"state": "lost"})

    assert response.status_code == 400
    assert response.json()["message"].startswith("state: Select a valid choice.")


def test_list_pages_with_cursor(queue, reviewer):
    items = [ReviewItemFactory(queue=queue) for _ in range(3)]
    client = client_for(reviewer)

    first = client.get(URL, {"page_size": 2}).json()
    second = client.get(first["next"]).json()

    ids = [row["id"] for row in first["results"] + second["results"]]
    assert ids == [item.pk for item in reversed(items)]
    assert second["next"] is None


def test_list_query_count_is_constant(queue, reviewer, django_assert_num_queries):
    ReviewItemFactory.create_batch(5, queue=queue)
    client = client_for(reviewer)

    # Token lookup, token last-used update, the page of items with their queue joined.
    with django_assert_num_queries(3):
        response = client.get(URL)

    assert len(response.json()["results"]) == 5


def test_admin_reads_unqueued_item():
    unqueued = ReviewItemFactory(queue=None)
    admin = client_for(UserFactory(username="admin", is_superuser=True), ["read"])

    detail = admin.get(f"{URL}{unqueued.pk}/")
    listing = admin.get(URL)

    assert detail.status_code == 200
    assert detail.json()["queue"] is None
    assert [row["id"] for row in listing.json()["results"]] == [unqueued.pk]


def test_manager_gets_404_for_unqueued_item(queue, manager):
    unqueued = ReviewItemFactory(queue=None)

    response = client_for(manager, ["read"]).get(f"{URL}{unqueued.pk}/")

    assert response.status_code == 404
