import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from reviews.models import QueueMembership, Review
from reviews.services import assignment_claim, review_submit
from tests.factories import CriterionFactory, MembershipFactory, ReviewItemFactory, UserFactory

pytestmark = pytest.mark.django_db

HISTORY_URL = reverse("admin:workspace_history")
REWRITE = "Restart the router; if the WAN light stays amber, check the cable."
CANDIDATE_B = {"role": "assistant", "content": "Check the WAN cable first."}


def edit_url(review) -> str:
    return reverse("admin:workspace_review_edit", args=[review.pk])


def submitted(queue, reviewer, **judgement) -> Review:
    assignment = assignment_claim(queue=queue, reviewer=reviewer)
    return review_submit(assignment=assignment, reviewer=reviewer, **{"verdict": "approved", **judgement})


def close_window(review) -> None:
    past = timezone.now() - datetime.timedelta(hours=3)
    review.assignment.finished_at = past
    review.assignment.save(update_fields=["finished_at"])


def messages_of(response) -> list[str]:
    return [str(message) for message in response.wsgi_request._messages]


@pytest.fixture
def reviewer_client(client, reviewer):
    client.force_login(reviewer)
    return client


def test_edit_url_is_named():
    assert reverse("admin:workspace_review_edit", args=[7]) == "/admin/workspace/history/7/edit/"


def test_history_links_edit_in_window(reviewer_client, queue, reviewer):
    ReviewItemFactory(queue=queue)
    review = submitted(queue, reviewer)

    content = reviewer_client.get(HISTORY_URL).content.decode()

    assert f'href="{edit_url(review)}"' in content


def test_history_hides_edit_after_window(reviewer_client, queue, reviewer):
    ReviewItemFactory(queue=queue)
    review = submitted(queue, reviewer)
    close_window(review)

    content = reviewer_client.get(HISTORY_URL).content.decode()

    assert edit_url(review) not in content
    assert "Closed for editing" in content


def test_edit_form_prefills_review(reviewer_client, queue, reviewer):
    CriterionFactory(rubric=queue.rubric, key="correct", label="Correct")
    ReviewItemFactory(queue=queue)
    review = submitted(queue, reviewer, verdict="needs_fix", corrected_response=REWRITE, scores={"correct": False})

    form = reviewer_client.get(edit_url(review)).context["form"]

    assert form["verdict"].value() == "needs_fix"
    assert form["corrected_response"].value() == REWRITE
    assert form["score_correct"].value() == "fail"


def test_edit_saves_revision(reviewer_client, queue, reviewer):
    ReviewItemFactory(queue=queue)
    review = submitted(queue, reviewer)

    response = reviewer_client.post(
        edit_url(review), {"verdict": "needs_fix", "corrected_response": REWRITE, "reason": "", "time_spent_seconds": "9"}
    )

    assert response.status_code == 302
    assert response.url == HISTORY_URL
    revision = Review.objects.get(is_current=True)
    assert revision.supersedes == review
    assert revision.corrected_response == REWRITE
    review.refresh_from_db()
    assert review.is_current is False
    assert review.verdict == "approved"


def test_edit_shows_validation_error(reviewer_client, queue, reviewer):
    ReviewItemFactory(queue=queue)
    review = submitted(queue, reviewer)

    response = reviewer_client.post(edit_url(review), {"verdict": "rejected", "reason": ""})

    assert response.status_code == 200
    assert "A rejected verdict requires a reason" in response.context["form"].errors["reason"][0]
    assert Review.objects.count() == 1


def test_edit_after_window_rejected(reviewer_client, queue, reviewer):
    ReviewItemFactory(queue=queue)
    review = submitted(queue, reviewer)
    close_window(review)

    response = reviewer_client.post(edit_url(review), {"verdict": "rejected", "reason": "Wrong."})

    assert response.status_code == 302
    assert response.url == HISTORY_URL
    message = messages_of(response)[0]
    assert f"The edit window of queue {queue.slug!r} (60 minutes)" in message
    assert message.endswith("You can no longer edit it.")
    assert Review.objects.count() == 1


def test_edit_of_replaced_review_rejected(reviewer_client, queue, reviewer):
    ReviewItemFactory(queue=queue)
    review = submitted(queue, reviewer)
    reviewer_client.post(edit_url(review), {"verdict": "rejected", "reason": "Wrong."})

    response = reviewer_client.get(edit_url(review))

    assert response.status_code == 302
    assert "has been replaced by a later revision" in messages_of(response)[-1]


def test_edit_of_others_review_not_found(client, queue, reviewer):
    ReviewItemFactory(queue=queue)
    review = submitted(queue, reviewer)
    colleague = UserFactory(username="colleague")
    MembershipFactory(queue=queue, user=colleague)
    client.force_login(colleague)

    assert client.get(edit_url(review)).status_code == 404
    assert client.post(edit_url(review), {"verdict": "rejected", "reason": "Mine now."}).status_code == 404
    assert Review.objects.count() == 1


def test_edit_after_leaving_queue_not_found(reviewer_client, queue, reviewer):
    ReviewItemFactory(queue=queue)
    review = submitted(queue, reviewer)
    QueueMembership.objects.filter(user=reviewer).delete()

    assert reviewer_client.get(edit_url(review)).status_code == 404


def test_edit_page_stays_blind(reviewer_client, queue, reviewer):
    queue.reviews_per_item = 2
    queue.save()
    ReviewItemFactory(queue=queue)
    colleague = UserFactory(username="colleague")
    MembershipFactory(queue=queue, user=colleague)
    submitted(queue, colleague, verdict="rejected", reason="The colleague's secret reason.")
    review = submitted(queue, reviewer)

    content = reviewer_client.get(edit_url(review)).content.decode()

    assert "secret reason" not in content
    assert "colleague" not in content


def test_edit_keeps_pairwise_pick(reviewer_client, queue, reviewer):
    ReviewItemFactory(queue=queue, reference_response=CANDIDATE_B, is_pairwise=True)
    review = submitted(queue, reviewer, preferred="b")

    page = reviewer_client.get(edit_url(review))
    reviewer_client.post(edit_url(review), {"verdict": "approved", "preferred": "a"})

    assert 'id="id_preferred_b" checked' in page.content.decode()
    assert Review.objects.get(is_current=True).preferred == "a"


def test_edit_page_query_count_is_constant(reviewer_client, queue, reviewer, django_assert_num_queries):
    for _ in range(2):
        ReviewItemFactory(queue=queue)
    first = submitted(queue, reviewer)
    CriterionFactory.create_batch(3, rubric=queue.rubric, required=False)
    second = submitted(queue, reviewer)

    # Session, user, the review with item, queue, rubric and assignment, criteria,
    # and two permission reads and the lead check for the admin navigation.
    with django_assert_num_queries(7):
        reviewer_client.get(edit_url(first))
    with django_assert_num_queries(7):
        reviewer_client.get(edit_url(second))


def test_history_query_count_with_edit_links(reviewer_client, queue, reviewer, django_assert_num_queries):
    for _ in range(3):
        ReviewItemFactory(queue=queue)
        submitted(queue, reviewer)

    # Session, user, one page of reviews, two permission reads and the lead check for the admin navigation.
    with django_assert_num_queries(6):
        response = reviewer_client.get(HISTORY_URL)

    assert all(review.editable for review in response.context["reviews"])
