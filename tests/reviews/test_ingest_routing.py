import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from bookbag.audit.models import AuditEvent
from reviews.models import QueueMembership, ReviewItem
from reviews.services import assignment_claim
from tests.api_clients import token_client
from tests.factories import ManagerFactory, MembershipFactory, QueueFactory, UserFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/items/"
FRENCH = {"metadata": {"lang": ["fr"]}}


def payload(external_id: str, lang: str = "fr", **extra) -> dict:
    return {
        "external_id": external_id,
        "conversation": [{"role": "user", "content": "Mon routeur clignote."}],
        "response": "Redémarrez-le.",
        "metadata": {"lang": lang},
        **extra,
    }


@pytest.fixture
def french_queue(manager):
    queue = QueueFactory(routing_rules=FRENCH)
    MembershipFactory(queue=queue, user=manager, role=QueueMembership.Role.MANAGER)
    return queue


@pytest.fixture
def ingest_api(manager):
    return token_client(manager, ["ingest", "read"])


def test_api_routes_item_by_rules(ingest_api, french_queue):
    response = ingest_api.post(URL, payload("fr-1"), format="json")

    assert response.status_code == 201
    body = response.json()
    assert body["unqueued"] == 0
    assert body["items"][0]["queue"] == french_queue.slug
    assert ReviewItem.objects.get().queue == french_queue


def test_api_keeps_unmatched_unqueued(ingest_api, french_queue):
    response = ingest_api.post(URL, payload("en-1", lang="en"), format="json")

    assert response.status_code == 201
    body = response.json()
    assert body["created"] == 1
    assert body["unqueued"] == 1
    assert body["items"][0]["queue"] is None
    stored = ReviewItem.objects.get()
    assert stored.queue is None
    assert AuditEvent.objects.get(action="item.create").after["queue"] is None


def test_api_mixes_routed_and_named(ingest_api, french_queue, queue):
    items = [payload("fr-1"), payload("named-1", queue=queue.slug), payload("en-1", lang="en")]

    response = ingest_api.post(URL, items, format="json")

    assert [row["queue"] for row in response.json()["items"]] == [french_queue.slug, queue.slug, None]


def test_api_routes_only_to_managed_queues(french_queue):
    other_manager = ManagerFactory(username="other-manager")

    response = token_client(other_manager, ["ingest"]).post(URL, payload("fr-1"), format="json")

    assert response.status_code == 201
    assert response.json()["items"][0]["queue"] is None
    assert ReviewItem.objects.get().queue is None


def test_api_repeat_unqueued_is_duplicate(ingest_api, french_queue):
    ingest_api.post(URL, payload("en-1", lang="en"), format="json")

    response = ingest_api.post(URL, payload("en-1", lang="en"), format="json")

    assert (response.json()["created"], response.json()["duplicates"]) == (0, 1)
    assert ReviewItem.objects.count() == 1


def test_api_samples_share_of_matches(ingest_api, french_queue):
    french_queue.sampling_rate = 0.5
    french_queue.save()

    response = ingest_api.post(URL, [payload(f"fr-{n}") for n in range(200)], format="json")

    routed = ReviewItem.objects.filter(queue=french_queue).count()
    assert 60 < routed < 140
    assert response.json()["unqueued"] == 200 - routed
    assert ReviewItem.objects.filter(queue__isnull=True).count() == 200 - routed


def test_api_rejects_empty_queue_slug(ingest_api, french_queue):
    response = ingest_api.post(URL, payload("fr-1", queue=""), format="json")

    assert response.status_code == 400
    assert "leave queue out to route the item" in response.json()["errors"]["queue"][0]
    assert not ReviewItem.objects.exists()


def test_api_inactive_queue_takes_nothing(ingest_api, french_queue):
    french_queue.is_active = False
    french_queue.save()

    response = ingest_api.post(URL, payload("fr-1"), format="json")

    assert response.json()["unqueued"] == 1


def test_unqueued_item_is_never_claimed(ingest_api, french_queue, reviewer, queue):
    ingest_api.post(URL, payload("en-1", lang="en"), format="json")

    assert assignment_claim(queue=queue, reviewer=reviewer) is None
    assert assignment_claim(queue=french_queue, reviewer=UserFactory(is_superuser=True)) is None


def run(path, **options) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    try:
        call_command("import_items", str(path), stdout=out, stderr=err, **options)
    except CommandError as error:
        return out.getvalue(), str(error)
    return out.getvalue(), ""


def chat_file(tmp_path, langs: list[str]):
    rows = [
        {
            "external_id": f"row-{n}", "metadata": {"lang": lang},
            "messages": [{"role": "user", "content": "Bonjour"}, {"role": "assistant", "content": f"Salut {n}"}],
        }
        for n, lang in enumerate(langs)
    ]
    path = tmp_path / "items.jsonl"
    path.write_text("\n".join(json.dumps(row) for row in rows) + "\n", encoding="utf-8")
    return path


def test_command_routes_without_queue(tmp_path, french_queue):
    output, error = run(chat_file(tmp_path, ["fr", "fr", "en"]))

    assert error == ""
    assert ReviewItem.objects.filter(queue=french_queue).count() == 2
    assert ReviewItem.objects.filter(queue__isnull=True).count() == 1
    assert "3 created, 0 duplicates skipped, 0 rejected (3 rows read)." in output
    assert (
        "1 row matched no queue's routing rules and was kept without a queue; an admin moves it into a queue "
        "with the \"Move to queue\" action of the admin's review item list, and a queue's routing rules "
        "decide where later rows go."
    ) in output


def test_command_routes_as_manager(tmp_path, french_queue, manager):
    output, error = run(chat_file(tmp_path, ["fr"]), username=manager.username)

    assert error == ""
    assert ReviewItem.objects.get().queue == french_queue
    assert ReviewItem.objects.get().created_by == manager
    assert "kept without a queue" not in output


def test_command_rejects_non_manager_routing(tmp_path, french_queue, reviewer):
    _, error = run(chat_file(tmp_path, ["fr"]), username=reviewer.username)

    assert error == (
        "User 'reviewer' is not a manager, so no queue takes their items; "
        "pass a manager's username with --as, or give 'reviewer' the manage_workspace permission."
    )
    assert "without --as" not in error
    assert not ReviewItem.objects.exists()


def test_command_strict_routing_rolls_back(tmp_path, french_queue):
    path = chat_file(tmp_path, ["fr"])
    with path.open("a", encoding="utf-8") as handle:
        handle.write("not json\n")

    _, error = run(path, strict=True)

    assert "rejected" in error
    assert not ReviewItem.objects.exists()


def test_api_ingests_review_modes(ingest_api, queue):
    pairwise = payload("pair-1", queue=queue.slug, reference_response="Check the cable.", is_pairwise=True)
    turns = payload("turns-1", queue=queue.slug, turn_selectable=True)

    response = ingest_api.post(URL, [pairwise, turns], format="json")

    assert response.status_code == 201
    assert ReviewItem.objects.get(external_id="pair-1").is_pairwise is True
    assert ReviewItem.objects.get(external_id="turns-1").turn_selectable is True


@pytest.mark.parametrize(
    ("extra", "field", "message"),
    [
        ({"is_pairwise": True}, "reference_response", "missing; a pairwise item needs it as its second candidate (B)"),
        ({"turn_selectable": "yes"}, "turn_selectable", "expected true or false, got a string"),
        (
            {"is_pairwise": True, "turn_selectable": True, "reference_response": "B."}, "turn_selectable",
            "a pairwise item compares two replies, so it cannot also select a turn",
        ),
    ],
)
def test_api_rejects_invalid_review_mode(ingest_api, queue, extra, field, message):
    response = ingest_api.post(URL, payload("bad-1", queue=queue.slug, **extra), format="json")

    assert response.status_code == 400
    assert response.json()["errors"] == {field: [message]}
    assert not ReviewItem.objects.exists()


def test_command_queue_rerun_points_to_move(tmp_path, french_queue, queue):
    path = chat_file(tmp_path, ["en"])
    run(path)
    kept = ReviewItem.objects.get()

    output, error = run(path, queue=queue.slug)

    assert (
        f"source 'chat' and external_id 'row-0' already belong to item {kept.pk}, which is kept without a queue; "
        "an admin moves it into a queue with the \"Move to queue\" action of the admin's review item list"
    ) in output + error
    assert ReviewItem.objects.get().queue is None
