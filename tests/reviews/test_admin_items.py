import html

import pytest
from django.urls import reverse

from tests.factories import MembershipFactory, QueueFactory, ReviewFactory, ReviewItemFactory, UserFactory

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:reviews_reviewitem_changelist")
XSS_PAYLOAD = "<script>alert(1)</script><img src=x onerror=alert(1)>"


def change_url(item) -> str:
    return reverse("admin:reviews_reviewitem_change", args=[item.pk])


@pytest.fixture
def reviewer_client(client, reviewer):
    client.force_login(reviewer)
    return client


@pytest.fixture
def colleague(queue):
    user = UserFactory(username="colleague")
    MembershipFactory(queue=queue, user=user)
    return user


def test_changelist_shows_own_queue_items(reviewer_client, queue):
    mine = ReviewItemFactory(queue=queue)
    hidden = ReviewItemFactory(queue=QueueFactory(name="Hidden queue"))

    response = reviewer_client.get(CHANGELIST)

    assert [item.pk for item in response.context["cl"].result_list] == [mine.pk]
    assert hidden.external_id not in response.content.decode()
    assert "Hidden queue" not in response.content.decode()


def test_queue_filter_offers_own_queues(reviewer_client, queue):
    QueueFactory(name="Hidden queue")

    response = reviewer_client.get(CHANGELIST)

    queue_filter = next(spec for spec in response.context["cl"].filter_specs if getattr(spec, "parameter_name", "") == "queue")
    assert queue_filter.lookup_choices == [(str(queue.pk), queue.name)]


def test_queue_filter_ignores_hidden_queue(reviewer_client, queue):
    hidden = ReviewItemFactory(queue=QueueFactory())

    response = reviewer_client.get(CHANGELIST, {"queue": str(hidden.queue_id)})

    assert list(response.context["cl"].result_list) == []


@pytest.mark.parametrize("rows", [1, 6])
def test_changelist_query_count_is_flat(reviewer_client, queue, rows, django_assert_num_queries):
    ReviewItemFactory.create_batch(rows, queue=queue)

    # Session, user, two permission reads, the queue filter's choices, the count, the page of items,
    # and the lead check for the admin navigation.
    with django_assert_num_queries(8):
        response = reviewer_client.get(CHANGELIST)

    assert len(response.context["cl"].result_list) == rows


def test_changelist_escapes_reply(reviewer_client, queue):
    ReviewItemFactory(queue=queue, response={"role": "assistant", "content": XSS_PAYLOAD})

    content = reviewer_client.get(CHANGELIST).content.decode()

    assert "&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;" in content
    assert "<script>alert(1)" not in content
    assert "<img src=x" not in content


def test_change_page_escapes_conversation(reviewer_client, queue):
    item = ReviewItemFactory(
        queue=queue,
        conversation=[{"role": "user", "content": XSS_PAYLOAD}],
        response={"role": "assistant", "content": XSS_PAYLOAD},
        metadata={"note": XSS_PAYLOAD},
    )

    content = reviewer_client.get(change_url(item)).content.decode()

    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in content
    assert "<script>alert(1)" not in content
    assert "<img src=x" not in content


def test_reviewer_views_item_read_only(reviewer_client, queue):
    item = ReviewItemFactory(queue=queue)

    page = reviewer_client.get(change_url(item))
    post = reviewer_client.post(change_url(item), {"state": "done"})

    assert page.status_code == 200
    assert page.context["title"] == "View review item"
    assert "The WAN light blinks amber." in html.unescape(page.content.decode())
    assert post.status_code == 403
    item.refresh_from_db()
    assert item.state == "pending"


@pytest.mark.parametrize("view", ["change", "history", "delete"])
def test_outsider_item_pages_are_not_found(client, outsider, queue, view):
    item = ReviewItemFactory(queue=queue)
    client.force_login(outsider)

    response = client.get(reverse(f"admin:reviews_reviewitem_{view}", args=[item.pk]))

    assert response.status_code == 404


def test_unknown_item_is_not_found(reviewer_client):
    assert reviewer_client.get(reverse("admin:reviews_reviewitem_change", args=[987654])).status_code == 404


def test_nobody_adds_items(client, queue):
    client.force_login(UserFactory(username="root", is_superuser=True))

    assert client.get(reverse("admin:reviews_reviewitem_add")).status_code == 403


def test_blind_queue_item_shows_own_review_only(reviewer_client, reviewer, colleague, queue):
    item = ReviewItemFactory(queue=queue)
    ReviewFactory(item=item, reviewer=reviewer, reason="")
    ReviewFactory(item=item, reviewer=colleague, verdict="rejected", reason="Colleague's secret reason")

    response = reviewer_client.get(change_url(item))

    inline = response.context["inline_admin_formsets"][0]
    assert [form.instance.reviewer for form in inline.formset.forms] == [reviewer]
    assert "Colleague's secret reason" not in html.unescape(response.content.decode())


def test_open_queue_item_shows_every_review(reviewer_client, reviewer, colleague, queue):
    queue.blind = False
    queue.save()
    item = ReviewItemFactory(queue=queue)
    ReviewFactory(item=item, reviewer=reviewer)
    ReviewFactory(item=item, reviewer=colleague, verdict="rejected", reason="Colleague's reason")

    response = reviewer_client.get(change_url(item))

    inline = response.context["inline_admin_formsets"][0]
    assert {form.instance.reviewer for form in inline.formset.forms} == {reviewer, colleague}


def test_changelist_names_tool_call_reply(reviewer_client, queue):
    ReviewItemFactory(
        queue=queue,
        response={
            "role": "assistant",
            "content": "",
            "tool_calls": [{"id": "call_1", "type": "function",
                            "function": {"name": "transfer_to_human_agents", "arguments": "{}"}}],
        },
    )

    response = reviewer_client.get(CHANGELIST)

    assert "[tool call: transfer_to_human_agents]" in response.content.decode()


def test_item_page_includes_conversation_styles(reviewer_client, queue):
    item = ReviewItemFactory(queue=queue)

    response = reviewer_client.get(change_url(item))

    assert '<link rel="stylesheet" href="/static/reviews/workspace.css">' in response.content.decode()


@pytest.fixture
def admin_client(client):
    client.force_login(UserFactory(username="admin", is_superuser=True))
    return client


def test_admin_changelist_lists_unqueued_items(admin_client, queue):
    queued = ReviewItemFactory(queue=queue)
    unqueued = ReviewItemFactory(queue=None)

    response = admin_client.get(CHANGELIST)

    assert sorted(item.pk for item in response.context["cl"].result_list) == sorted([queued.pk, unqueued.pk])


def test_admin_opens_unqueued_item(admin_client):
    item = ReviewItemFactory(queue=None)

    response = admin_client.get(change_url(item))

    assert response.status_code == 200
    assert response.context["original"] == item


def test_queue_filter_offers_no_queue_to_admin(admin_client, queue):
    response = admin_client.get(CHANGELIST)

    queue_filter = next(spec for spec in response.context["cl"].filter_specs if getattr(spec, "parameter_name", "") == "queue")
    assert queue_filter.lookup_choices == [("none", "No queue"), (str(queue.pk), queue.name)]


def test_queue_filter_no_queue_lists_unqueued(admin_client, queue):
    ReviewItemFactory(queue=queue)
    unqueued = ReviewItemFactory(queue=None)

    response = admin_client.get(CHANGELIST, {"queue": "none"})

    assert [item.pk for item in response.context["cl"].result_list] == [unqueued.pk]


def test_queue_filter_hides_no_queue_from_manager(client, manager, queue):
    client.force_login(manager)

    response = client.get(CHANGELIST)

    queue_filter = next(spec for spec in response.context["cl"].filter_specs if getattr(spec, "parameter_name", "") == "queue")
    assert ("none", "No queue") not in queue_filter.lookup_choices


def test_manager_never_sees_unqueued_items(client, manager, queue):
    unqueued = ReviewItemFactory(queue=None)
    client.force_login(manager)

    listing = client.get(CHANGELIST, {"queue": "none"})
    page = client.get(change_url(unqueued))

    assert list(listing.context["cl"].result_list) == []
    assert page.status_code == 404


@pytest.mark.parametrize("rows", [1, 6])
def test_admin_changelist_query_count_is_flat(admin_client, queue, rows, django_assert_num_queries):
    ReviewItemFactory.create_batch(rows, queue=queue)
    ReviewItemFactory.create_batch(rows, queue=None)

    # Session, user, the queue filter's choices, the count and the page of items. A superuser needs no permission
    # reads, and the admin navigation needs no lead check.
    with django_assert_num_queries(5):
        response = admin_client.get(CHANGELIST)

    assert len(response.context["cl"].result_list) == 2 * rows
