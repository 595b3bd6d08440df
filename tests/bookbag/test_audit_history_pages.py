"""Each change form links to the object's history page, which lists its audit events with before and after."""

import pytest
from django.urls import reverse

from exports.services import export_request
from reviews.services import assignment_claim, item_priority_set, queue_update, review_submit
from rubrics.services import rubric_create
from tests.factories import CriterionFactory, ReviewItemFactory, UserFactory

pytestmark = pytest.mark.django_db


def _rubric(manager, queue, reviewer):
    return rubric_create(actor=manager, name="Tone", slug="tone"), "rubric.create"


def _queue(manager, queue, reviewer):
    queue_update(actor=manager, queue=queue, lease_minutes=45)
    return queue, "queue.update"


def _item(manager, queue, reviewer):
    item = ReviewItemFactory(queue=queue)
    item_priority_set(actor=manager, items=[item], priority=5)
    return item, "item.prioritize"


def _review(manager, queue, reviewer):
    CriterionFactory(rubric=queue.rubric, key="correct")
    ReviewItemFactory(queue=queue)
    assignment = assignment_claim(queue=queue, reviewer=reviewer)
    return review_submit(assignment=assignment, reviewer=reviewer, verdict="approved", scores={"correct": True}), (
        "review.submit"
    )


def _export_job(manager, queue, reviewer):
    job = export_request(requester=manager, kind="sft", format="trl", filters={"queues": [queue.slug]}, enqueue=False)
    return job, "export.request"


@pytest.mark.parametrize("build", [_rubric, _queue, _item, _review, _export_job])
def test_change_form_links_history_with_events(client, manager, queue, reviewer, build):
    superuser = UserFactory(username="root", is_superuser=True)
    obj, action = build(manager, queue, reviewer)
    opts = obj._meta
    history = reverse(f"admin:{opts.app_label}_{opts.model_name}_history", args=[obj.pk])
    client.force_login(superuser)

    change_page = client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk]))
    history_page = client.get(history)

    assert history in change_page.content.decode()
    assert history_page.status_code == 200
    assert action in [row["event"].action for row in history_page.context["audit_events"]]


def test_history_shows_before_and_after(client, manager, queue):
    queue_update(actor=manager, queue=queue, lease_minutes=45)
    client.force_login(manager)

    content = client.get(reverse("admin:reviews_queue_history", args=[queue.pk])).content.decode()

    assert "&quot;lease_minutes&quot;: 30" in content
    assert "&quot;lease_minutes&quot;: 45" in content
    assert "manager" in content


def test_reviewer_history_shows_no_events(client, manager, queue, reviewer):
    item = ReviewItemFactory(queue=queue)
    item_priority_set(actor=manager, items=[item], priority=5)
    client.force_login(reviewer)

    response = client.get(reverse("admin:reviews_reviewitem_history", args=[item.pk]))

    assert response.status_code == 200
    assert response.context["audit_events"] == []
    assert "No audit events of this object that you may read." in response.content.decode()


@pytest.mark.parametrize("build", [_item, _export_job])
def test_history_with_events_omits_no_history_note(client, manager, queue, reviewer, build):
    obj, action = build(manager, queue, reviewer)
    opts = obj._meta
    client.force_login(manager)

    response = client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_history", args=[obj.pk]))

    content = response.content.decode()
    assert action in content
    assert 'id="audit-history"' in content
    assert "have a change history" not in content
    assert "added via this admin site" not in content


def test_history_without_events_keeps_no_history_note(client, manager, queue, reviewer):
    item = ReviewItemFactory(queue=queue)
    client.force_login(manager)

    content = client.get(reverse("admin:reviews_reviewitem_history", args=[item.pk])).content.decode()

    assert "have a change history" in content
    assert "No audit events of this object that you may read." in content
