import json

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from exports.models import ExportJob
from exports.services import export_build, export_request
from reviews.models import QueueMembership, Review
from tests.exports.conftest import bundle_members
from tests.factories import ManagerFactory, MembershipFactory, QueueFactory, ReviewItemFactory, UserFactory

pytestmark = pytest.mark.django_db

QUEUES = reverse("admin:reviews_queue_changelist")
ITEMS = reverse("admin:reviews_reviewitem_changelist")
JOBS = reverse("admin:exports_exportjob_changelist")


def _choose(client, url: str, action: str, ids: list[int]):
    """Pick ``action`` for ``ids`` on a changelist, as the Go button does."""
    return client.post(url, {"action": action, "_selected_action": ids, "index": 0})


def _confirm(client, url: str, action: str, ids: list[int], **fields):
    """Submit the confirmation page of ``action``."""
    data = {"action": action, "_selected_action": ids, "export_confirm": "yes", "kind": "both", "format": "trl"}
    return client.post(url, {**data, **fields})


def _messages(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def test_queue_action_asks_kind_and_format(client, manager, queue):
    client.force_login(manager)

    response = _choose(client, QUEUES, "export_queues", [queue.pk])

    assert response.status_code == 200
    assert response.templates[0].name == "admin/action_confirm.html"
    content = response.content.decode()
    assert 'name="kind"' in content
    assert 'name="format"' in content
    assert f'name="_selected_action" value="{queue.pk}"' in content
    assert ExportJob.objects.count() == 0


def test_queue_action_requests_export(client, manager, queue):
    other = QueueFactory()
    MembershipFactory(queue=other, user=manager, role=QueueMembership.Role.MANAGER)
    client.force_login(manager)

    response = _confirm(client, QUEUES, "export_queues", [queue.pk, other.pk], kind="sft", format="openai")

    job = ExportJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:exports_exportjob_change", args=[job.pk])
    assert job.requester == manager
    assert (job.kind, job.format) == ("sft", "openai")
    assert job.filters["queues"] == sorted([queue.slug, other.slug])
    assert _messages(response)[0].startswith(f"Export {job.pk} requested; ")


def test_queue_action_unmanaged_queue(client, manager, queue):
    led = QueueFactory(slug="led-queue")
    MembershipFactory(queue=led, user=manager, role=QueueMembership.Role.LEAD)
    client.force_login(manager)

    response = _confirm(client, QUEUES, "export_queues", [led.pk])

    assert ExportJob.objects.count() == 0
    assert _messages(response) == [
        "The export was not requested: Queue 'led-queue' not found among the queues you manage; check the slug."
    ]


def test_queue_action_invalid_format(client, manager, queue):
    client.force_login(manager)

    response = _confirm(client, QUEUES, "export_queues", [queue.pk], format="alpaca")

    assert response.status_code == 200
    assert "Select a valid choice. alpaca is not one of the available choices." in response.content.decode()
    assert ExportJob.objects.count() == 0


def test_item_action_exports_selection(client, manager, queue, make_reviewed,
                                                    django_capture_on_commit_callbacks):
    replies = [{"role": "assistant", "content": f"Reply number {number}."} for number in range(3)]
    chosen = [make_reviewed(Review.Verdict.APPROVED, response=reply) for reply in replies[:2]]
    make_reviewed(Review.Verdict.APPROVED, response=replies[2])
    pending = ReviewItemFactory(queue=queue)
    client.force_login(manager)
    ids = [chosen[0].pk, chosen[1].pk, pending.pk]

    with django_capture_on_commit_callbacks(execute=True):
        _confirm(client, ITEMS, "export_items", ids, kind="sft")

    job = ExportJob.objects.get()
    assert job.filters["item_ids"] == sorted(ids)
    assert job.filters["queues"] == [queue.slug]
    assert job.state == ExportJob.State.SUCCEEDED
    provenance = [json.loads(line) for line in bundle_members(job)["meta/examples.jsonl"].splitlines()]
    assert sorted(row["item_id"] for row in provenance) == [chosen[0].pk, chosen[1].pk]


def test_item_action_page_counts_reviewed_items(client, manager, queue, make_reviewed):
    reviewed = make_reviewed(Review.Verdict.APPROVED)
    pending = ReviewItemFactory(queue=queue)
    client.force_login(manager)

    response = _choose(client, ITEMS, "export_items", [reviewed.pk, pending.pk])

    assert "Export 2 selected item(s); 1 of them have a final review" in response.content.decode()


def test_item_action_across_pages(client, manager, queue, make_reviewed):
    items = [make_reviewed(Review.Verdict.APPROVED) for _ in range(3)]
    client.force_login(manager)

    _confirm(client, ITEMS, "export_items", [items[0].pk], select_across="1")

    assert ExportJob.objects.get().filters["item_ids"] == sorted(item.pk for item in items)


def test_reviewer_has_no_export_actions(client, reviewer, queue):
    item = ReviewItemFactory(queue=queue)
    client.force_login(reviewer)

    queue_page = client.get(QUEUES)
    item_page = client.get(ITEMS)
    _confirm(client, QUEUES, "export_queues", [queue.pk])
    _confirm(client, ITEMS, "export_items", [item.pk])

    assert "export_queues" not in queue_page.content.decode()
    assert "export_items" not in item_page.content.decode()
    assert ExportJob.objects.count() == 0


def test_manager_sees_export_actions(client, manager, queue):
    ReviewItemFactory(queue=queue)
    client.force_login(manager)

    assert "export_queues" in client.get(QUEUES).content.decode()
    assert "export_items" in client.get(ITEMS).content.decode()


def _finished_job(manager, queue) -> ExportJob:
    job = export_request(requester=manager, kind="sft", format="openai",
                         filters={"queues": [queue.slug], "verdicts": ["approved"]}, enqueue=False)
    export_build(job_id=job.pk)
    job.refresh_from_db()
    return job


def test_rerun_action_repeats_parameters(client, manager, queue):
    source = _finished_job(manager, queue)
    client.force_login(manager)

    response = _choose(client, JOBS, "rerun_jobs", [source.pk])

    rerun = ExportJob.objects.exclude(pk=source.pk).get()
    assert (rerun.kind, rerun.format, rerun.filters) == (source.kind, source.format, source.filters)
    assert rerun.rerun_of == source
    assert rerun.requester == manager
    assert _messages(response) == [f"Requested 1 new export(s): {rerun.pk}."]


def test_rerun_action_by_admin_copies_other_managers_job(client, manager, queue):
    other = ManagerFactory(username="other-manager")
    MembershipFactory(queue=queue, user=other, role=QueueMembership.Role.MANAGER)
    source = _finished_job(other, queue)
    superuser = UserFactory(username="root", is_superuser=True)
    client.force_login(superuser)

    _choose(client, JOBS, "rerun_jobs", [source.pk])

    rerun = ExportJob.objects.exclude(pk=source.pk).get()
    assert rerun.rerun_of_id == source.pk
    assert rerun.requester == superuser


def test_job_list_shows_progress(client, manager, queue):
    job = export_request(requester=manager, kind="both", format="trl", filters={"queues": [queue.slug]},
                         enqueue=False)
    ExportJob.objects.filter(pk=job.pk).update(state=ExportJob.State.RUNNING, rows_done=30, rows_total=120,
                                               attempts=2)
    client.force_login(manager)

    content = client.get(JOBS).content.decode()

    assert '<progress value="0.25" max="1">25%</progress> 30 / 120 items, 25%' in content
    assert '<td class="field-attempts">2</td>' in content


def test_job_page_shows_heartbeat(client, manager, queue):
    source = _finished_job(manager, queue)
    client.force_login(manager)
    _choose(client, JOBS, "rerun_jobs", [source.pk])
    rerun = ExportJob.objects.exclude(pk=source.pk).get()

    content = client.get(reverse("admin:exports_exportjob_change", args=[rerun.pk])).content.decode()

    assert "Heartbeat at" in content
    assert str(source) in content


def test_item_action_rejects_unqueued_items(client, queue, make_reviewed):
    reviewed = make_reviewed(Review.Verdict.APPROVED)
    unqueued = ReviewItemFactory(queue=None)
    client.force_login(UserFactory(username="admin", is_superuser=True))

    response = _choose(client, ITEMS, "export_items", [reviewed.pk, unqueued.pk])

    assert response.status_code == 302
    assert _messages(response) == [
        "1 selected item(s) are kept without a queue and have no reviews to export; "
        "deselect them, or move them into a queue with \"Move to queue\" and review them first."
    ]
    assert not ExportJob.objects.exists()
