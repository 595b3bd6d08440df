import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from reviews.models import Assignment, QueueMembership, Review, ReviewItem
from reviews.services import review_submit
from tests.factories import (
    AssignmentFactory,
    ManagerFactory,
    MembershipFactory,
    QueueFactory,
    ReviewItemFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

ITEMS = reverse("admin:reviews_reviewitem_changelist")


def _choose(client, action: str, ids: list[int]):
    return client.post(ITEMS, {"action": action, "_selected_action": ids, "index": 0})


def _confirm(client, action: str, ids: list[int], **fields):
    return client.post(ITEMS, {"action": action, "_selected_action": ids, "action_confirm": "yes", **fields})


def _messages(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


@pytest.fixture
def manager_client(client, manager):
    client.force_login(manager)
    return client


def _reviewed_item(queue, reviewer) -> ReviewItem:
    item = ReviewItemFactory(queue=queue)
    assignment = AssignmentFactory(item=item, reviewer=reviewer)
    review_submit(assignment=assignment, reviewer=reviewer, verdict="approved")
    item.refresh_from_db()
    return item


def test_assign_page_offers_queue_members(manager_client, queue, reviewer):
    outsider = UserFactory(username="not-a-member")
    item = ReviewItemFactory(queue=queue)

    response = _choose(manager_client, "assign_items", [item.pk])

    assert response.status_code == 200
    assert response.templates[0].name == "admin/action_confirm.html"
    choices = [user.pk for user in response.context["form"].fields["reviewer"].queryset]
    assert reviewer.pk in choices
    assert outsider.pk not in choices
    assert Assignment.objects.count() == 0


def test_assign_reserves_items(manager_client, queue, reviewer):
    items = ReviewItemFactory.create_batch(2, queue=queue)

    response = _confirm(manager_client, "assign_items", [item.pk for item in items], reviewer=reviewer.pk)

    assert response.status_code == 302
    reserved = Assignment.objects.filter(reviewer=reviewer, state=Assignment.State.RESERVED)
    assert sorted(reserved.values_list("item_id", flat=True)) == sorted(item.pk for item in items)
    assert "Assigned 2 item(s) to reviewer." in _messages(response)


def test_assign_rejects_non_member(manager_client, queue):
    outsider = UserFactory(username="not-a-member")
    item = ReviewItemFactory(queue=queue)

    response = _confirm(manager_client, "assign_items", [item.pk], reviewer=outsider.pk)

    assert response.status_code == 200
    error = response.context["form"].errors["reviewer"][0]
    assert f"not a member of queue {queue.slug!r}" in error
    assert Assignment.objects.count() == 0


def test_assign_rejects_several_queues(manager_client, queue, reviewer, manager):
    other = QueueFactory()
    MembershipFactory(queue=other, user=manager, role=QueueMembership.Role.MANAGER)
    items = [ReviewItemFactory(queue=queue), ReviewItemFactory(queue=other)]

    response = _confirm(manager_client, "assign_items", [item.pk for item in items], reviewer=reviewer.pk)

    assert response.status_code == 302
    assert "The selected items belong to 2 queues" in _messages(response)[0]
    assert Assignment.objects.count() == 0


def test_assign_reports_skipped_items(manager_client, queue, reviewer):
    reviewed = _reviewed_item(queue, reviewer)
    open_item = ReviewItemFactory(queue=queue)

    response = _confirm(manager_client, "assign_items", [reviewed.pk, open_item.pk], reviewer=reviewer.pk)

    messages = _messages(response)
    assert "Assigned 1 item(s) to reviewer." in messages
    assert messages[1].startswith("Skipped 1 item(s):")
    assert f"item {reviewed.pk} is reviewed" in messages[1]


def test_assign_refuses_queue_not_managed(client, queue, reviewer):
    other_manager = ManagerFactory(username="other-manager")
    MembershipFactory(queue=queue, user=other_manager, role=QueueMembership.Role.REVIEWER)
    item = ReviewItemFactory(queue=queue)
    client.force_login(other_manager)

    response = _confirm(client, "assign_items", [item.pk], reviewer=reviewer.pk)

    assert "Nothing was assigned: You do not manage queue" in _messages(response)[0]
    assert Assignment.objects.count() == 0


def test_reviewer_has_no_item_actions(client, reviewer, queue):
    ReviewItemFactory(queue=queue)
    client.force_login(reviewer)

    content = client.get(ITEMS).content.decode()

    assert "assign_items" not in content
    assert "mark_gold" not in content
    assert "send_back" not in content


def test_reviewer_cannot_post_action(client, reviewer, queue):
    item = ReviewItemFactory(queue=queue)
    client.force_login(reviewer)

    _confirm(client, "send_back", [item.pk])
    _confirm(client, "mark_gold", [item.pk], verdict="approved")

    item.refresh_from_db()
    assert item.is_gold is False
    assert item.state == ReviewItem.State.PENDING


def test_manager_sees_item_actions(manager_client, queue):
    ReviewItemFactory(queue=queue)

    content = manager_client.get(ITEMS).content.decode()

    assert 'value="assign_items"' in content
    assert 'value="mark_gold"' in content
    assert 'value="send_back"' in content


def test_mark_gold_asks_for_answer(manager_client, queue):
    item = ReviewItemFactory(queue=queue)

    response = _choose(manager_client, "mark_gold", [item.pk])

    assert response.status_code == 200
    assert 'name="verdict"' in response.content.decode()
    item.refresh_from_db()
    assert item.is_gold is False


def test_mark_gold_stores_answer(manager_client, queue):
    items = ReviewItemFactory.create_batch(2, queue=queue)

    response = _confirm(
        manager_client, "mark_gold", [item.pk for item in items], verdict="needs_fix",
        corrected_response="Check the cable first.",
    )

    assert "Marked 2 item(s) as gold; 0 already had this answer." in _messages(response)
    for item in items:
        item.refresh_from_db()
        assert item.is_gold is True
        assert item.gold_verdict == Review.Verdict.NEEDS_FIX
        assert item.gold_corrected_response == "Check the cable first."


def test_mark_gold_rejects_missing_rewrite(manager_client, queue):
    items = ReviewItemFactory.create_batch(2, queue=queue)

    response = _confirm(manager_client, "mark_gold", [item.pk for item in items], verdict="needs_fix",
                        corrected_response="  ")

    assert response.status_code == 200
    assert response.templates[0].name == "admin/action_confirm.html"
    form = response.context["form"]
    assert form.errors["corrected_response"] == ["A needs_fix gold answer requires the corrected response text."]
    assert form["verdict"].value() == "needs_fix"
    assert sorted(response.context["selected_ids"]) == [item.pk for item in items]
    assert _messages(response) == []
    assert not ReviewItem.objects.filter(is_gold=True).exists()


def test_mark_gold_rejects_preferred_on_single_reply(manager_client, queue):
    item = ReviewItemFactory(queue=queue)

    response = _confirm(manager_client, "mark_gold", [item.pk], verdict="approved", preferred="a")

    content = response.content.decode()
    assert response.status_code == 200
    assert response.context["form"].errors["preferred"] == [f"Item {item.pk} has one candidate; leave preferred empty."]
    assert f'name="_selected_action" value="{item.pk}"' in content
    assert '<option value="approved" selected>' in content
    assert '<option value="a" selected>' in content
    item.refresh_from_db()
    assert item.is_gold is False


def test_mark_gold_corrected_after_error(manager_client, queue):
    item = ReviewItemFactory(queue=queue)
    _confirm(manager_client, "mark_gold", [item.pk], verdict="needs_fix", corrected_response="")

    response = _confirm(manager_client, "mark_gold", [item.pk], verdict="needs_fix",
                        corrected_response="Check the cable first.")

    assert "Marked 1 item(s) as gold; 0 already had this answer." in _messages(response)
    item.refresh_from_db()
    assert item.gold_corrected_response == "Check the cable first."


def test_send_back_reopens_reviewed(manager_client, queue, reviewer):
    reviewed = _reviewed_item(queue, reviewer)
    open_item = ReviewItemFactory(queue=queue)

    response = _confirm(manager_client, "send_back", [reviewed.pk, open_item.pk])

    assert "Sent 1 item(s) back for re-review; 1 not yet reviewed were left alone." in _messages(response)
    reviewed.refresh_from_db()
    assert reviewed.state == ReviewItem.State.PENDING
    assert reviewed.final_review is None
    assert Review.objects.get(item=reviewed).is_current is False


def test_send_back_refuses_queue_not_managed(client, queue, reviewer):
    reviewed = _reviewed_item(queue, reviewer)
    other_manager = ManagerFactory(username="other-manager")
    MembershipFactory(queue=queue, user=other_manager, role=QueueMembership.Role.LEAD)
    client.force_login(other_manager)

    response = _confirm(client, "send_back", [reviewed.pk])

    assert "No item was sent back: You do not manage queue" in _messages(response)[0]
    reviewed.refresh_from_db()
    assert reviewed.state == ReviewItem.State.REVIEWED


def test_assign_page_query_count_is_flat(manager_client, queue, reviewer, django_assert_num_queries):
    few = [item.pk for item in ReviewItemFactory.create_batch(2, queue=queue)]
    many = few + [item.pk for item in ReviewItemFactory.create_batch(8, queue=queue)]
    _choose(manager_client, "assign_items", few)

    with django_assert_num_queries(13) as few_queries:
        _choose(manager_client, "assign_items", few)
    with django_assert_num_queries(len(few_queries.captured_queries)):
        _choose(manager_client, "assign_items", many)


@pytest.fixture
def admin_client(client):
    client.force_login(UserFactory(username="admin", is_superuser=True))
    return client


def test_move_page_offers_active_queues(admin_client, queue):
    QueueFactory(slug="closed", is_active=False)
    item = ReviewItemFactory(queue=None)

    response = _choose(admin_client, "move_to_queue", [item.pk])

    assert response.status_code == 200
    assert response.templates[0].name == "admin/action_confirm.html"
    assert list(response.context["form"].fields["queue"].queryset) == [queue]
    assert ReviewItem.objects.get(pk=item.pk).queue is None


def test_move_puts_items_in_queue(admin_client, queue):
    items = ReviewItemFactory.create_batch(2, queue=None)

    response = _confirm(admin_client, "move_to_queue", [item.pk for item in items], queue=queue.pk)

    assert response.status_code == 302
    assert ReviewItem.objects.filter(queue=queue).count() == 2
    assert f"Moved 2 item(s) to queue {queue.name}." in _messages(response)


def test_move_reports_skipped_items(admin_client, queue):
    unqueued = ReviewItemFactory(queue=None)
    queued = ReviewItemFactory(queue=queue)

    response = _confirm(admin_client, "move_to_queue", [unqueued.pk, queued.pk], queue=queue.pk)

    assert _messages(response) == [
        f"Moved 1 item(s) to queue {queue.name}.",
        f"Skipped 1 item(s): item {queued.pk} is already in queue {queue.slug!r}.",
    ]


def test_move_rejects_unknown_queue(admin_client):
    item = ReviewItemFactory(queue=None)

    response = _confirm(admin_client, "move_to_queue", [item.pk], queue=987654)

    assert response.status_code == 200
    assert "Select a valid choice" in response.context["form"].errors["queue"][0]
    assert ReviewItem.objects.get(pk=item.pk).queue is None


def test_manager_is_not_offered_move(manager_client, queue):
    response = manager_client.get(ITEMS)

    assert "move_to_queue" not in [name for name, _ in response.context["action_form"].fields["action"].choices]


def test_manager_cannot_post_move(manager_client, queue):
    item = ReviewItemFactory(queue=queue)
    other = QueueFactory(slug="other")
    MembershipFactory(queue=other, user=ManagerFactory(), role=QueueMembership.Role.MANAGER)

    _confirm(manager_client, "move_to_queue", [item.pk], queue=other.pk)

    assert ReviewItem.objects.get(pk=item.pk).queue == queue


def test_assign_rejects_unqueued_items(admin_client, queue, reviewer):
    item = ReviewItemFactory(queue=None)

    response = _choose(admin_client, "assign_items", [item.pk])

    assert response.status_code == 302
    assert _messages(response) == [
        "The selected items have no queue; move them to a queue with \"Move to queue\" first, then assign them."
    ]
    assert Assignment.objects.count() == 0

