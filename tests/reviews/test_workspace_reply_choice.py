import html

import pytest
from django.urls import reverse

from reviews.models import Assignment, QueueMembership, Review
from reviews.services import assignment_claim, review_submit
from tests.factories import AssignmentFactory, MembershipFactory, ReviewItemFactory

pytestmark = pytest.mark.django_db

TRANSCRIPT = [
    {"role": "user", "content": "My router blinks amber."},
    {"role": "assistant", "content": "Restart it."},
    {"role": "user", "content": "Still amber."},
]
RESPONSE = {"role": "assistant", "content": "Call your provider."}
CANDIDATE_B = {"role": "assistant", "content": "Check the WAN cable, then restart the router."}


@pytest.fixture
def reviewer_client(client, reviewer):
    client.force_login(reviewer)
    return client


def turn_assignment(queue, reviewer, conversation=TRANSCRIPT) -> Assignment:
    item = ReviewItemFactory(queue=queue, conversation=conversation, response=RESPONSE, turn_selectable=True)
    return AssignmentFactory(item=item, reviewer=reviewer)


def pairwise_assignment(queue, reviewer) -> Assignment:
    item = ReviewItemFactory(queue=queue, response=RESPONSE, reference_response=CANDIDATE_B, is_pairwise=True)
    return AssignmentFactory(item=item, reviewer=reviewer)


def url(assignment) -> str:
    return reverse("admin:workspace_assignment", args=[assignment.pk])


def page_text(response) -> str:
    return html.unescape(response.content.decode())


def verdict(**fields) -> dict:
    return {"verdict": "approved", "corrected_response": "", "reason": "", "time_spent_seconds": "5", **fields}


def test_turn_choice_offers_assistant_turns(reviewer_client, queue, reviewer):
    assignment = turn_assignment(queue, reviewer)

    response = reviewer_client.get(url(assignment))

    content = response.content.decode()
    assert 'name="turn_index" value="1"' in content
    assert 'name="turn_index" value="3"' in content
    assert 'name="turn_index" value="0"' not in content
    assert 'name="turn_index" value="2"' not in content
    chosen = [row["index"] for row in response.context["transcript"] if row["chosen"]]
    assert chosen == [3]


def test_turn_choice_stores_turn_index(reviewer_client, queue, reviewer):
    assignment = turn_assignment(queue, reviewer)

    response = reviewer_client.post(url(assignment), verdict(turn_index="1"))

    assert response.status_code == 302
    assert Review.objects.get().turn_index == 1


def test_turn_choice_rejects_user_turn(reviewer_client, queue, reviewer):
    assignment = turn_assignment(queue, reviewer)

    response = reviewer_client.post(url(assignment), verdict(turn_index="2"))

    assert response.status_code == 200
    error = response.context["form"].errors["turn_index"][0]
    assert error == f"Turn 2 is not an assistant turn of item {assignment.item.pk}; choose one of [1, 3]."
    assert error in page_text(response)
    assert Review.objects.count() == 0


def test_turn_choice_requires_turn(reviewer_client, queue, reviewer):
    assignment = turn_assignment(queue, reviewer)

    response = reviewer_client.post(url(assignment), verdict())

    assert response.context["form"].errors["turn_index"] == ["Choose which assistant turn you review."]
    assert Review.objects.count() == 0


def test_turn_choice_rewrite_compares_chosen_turn(reviewer_client, queue, reviewer):
    assignment = turn_assignment(queue, reviewer)

    unchanged = reviewer_client.post(
        url(assignment), verdict(turn_index="1", verdict="needs_fix", corrected_response="Restart it.")
    )
    fixed = reviewer_client.post(
        url(assignment), verdict(turn_index="1", verdict="needs_fix", corrected_response="Call your provider.")
    )

    assert "same as the original reply" in unchanged.context["form"].errors["corrected_response"][0]
    assert fixed.status_code == 302
    review = Review.objects.get()
    assert review.turn_index == 1
    assert review.corrected_response == "Call your provider."


def test_turn_choice_lists_reply_texts(reviewer_client, queue, reviewer):
    assignment = turn_assignment(queue, reviewer)

    response = reviewer_client.get(url(assignment))

    assert response.context["reply_choices"] == {"1": "Restart it.", "3": "Call your provider."}
    assert 'id="reply-choices"' in response.content.decode()


def test_plain_item_has_no_choice(reviewer_client, queue, reviewer):
    assignment = AssignmentFactory(item=ReviewItemFactory(queue=queue), reviewer=reviewer)

    response = reviewer_client.get(url(assignment))

    content = response.content.decode()
    assert 'name="turn_index"' not in content
    assert 'name="preferred"' not in content
    assert 'id="reply-choices"' not in content


def test_pairwise_shows_both_candidates(reviewer_client, queue, reviewer):
    assignment = pairwise_assignment(queue, reviewer)

    response = reviewer_client.get(url(assignment))

    text = page_text(response)
    assert 'id="candidate-a"' in text
    assert 'id="candidate-b"' in text
    assert "Call your provider." in text
    assert "Check the WAN cable, then restart the router." in text
    assert 'data-shortcut="1" data-for="id_preferred_a"' in text
    assert 'data-shortcut="2" data-for="id_preferred_b"' in text


def test_pairwise_stores_preference(reviewer_client, queue, reviewer):
    assignment = pairwise_assignment(queue, reviewer)

    response = reviewer_client.post(url(assignment), verdict(preferred="b"))

    assert response.status_code == 302
    assert Review.objects.get().preferred == Review.Preference.B


def test_pairwise_requires_pick(reviewer_client, queue, reviewer):
    assignment = pairwise_assignment(queue, reviewer)

    response = reviewer_client.post(url(assignment), verdict())

    error = "Pick the better candidate, A or B, before giving a verdict."
    assert response.context["form"].errors["preferred"] == [error]
    assert error in page_text(response)
    assert Review.objects.count() == 0


def test_pairwise_rejects_unknown_pick(reviewer_client, queue, reviewer):
    assignment = pairwise_assignment(queue, reviewer)

    response = reviewer_client.post(url(assignment), verdict(preferred="c"))

    assert "Select a valid choice" in response.context["form"].errors["preferred"][0]
    assert Review.objects.count() == 0


def test_pairwise_rewrites_picked_candidate(reviewer_client, queue, reviewer):
    assignment = pairwise_assignment(queue, reviewer)
    rewrite = CANDIDATE_B["content"] + " Then call us."

    unchanged = reviewer_client.post(
        url(assignment), verdict(preferred="b", verdict="needs_fix", corrected_response=CANDIDATE_B["content"])
    )
    fixed = reviewer_client.post(url(assignment), verdict(preferred="b", verdict="needs_fix", corrected_response=rewrite))

    assert "same as the original reply" in unchanged.context["form"].errors["corrected_response"][0]
    assert fixed.status_code == 302
    review = Review.objects.get()
    assert review.preferred == Review.Preference.B
    assert review.corrected_response == rewrite


def test_pairwise_keeps_pick_on_error(reviewer_client, queue, reviewer):
    assignment = pairwise_assignment(queue, reviewer)

    response = reviewer_client.post(url(assignment), verdict(preferred="b", verdict="rejected"))

    chosen = [candidate["value"] for candidate in response.context["candidates"] if candidate["chosen"]]
    assert chosen == ["b"]
    assert 'id="id_preferred_b" checked' in response.content.decode()


@pytest.mark.parametrize("kind", ["turns", "pairwise"])
def test_choice_page_query_count_is_constant(reviewer_client, queue, reviewer, kind, django_assert_num_queries):
    if kind == "turns":
        short = turn_assignment(queue, reviewer)
        long_conversation = TRANSCRIPT * 10
        long = turn_assignment(queue, reviewer, conversation=long_conversation)
    else:
        short, long = pairwise_assignment(queue, reviewer), pairwise_assignment(queue, reviewer)
    reviewer_client.get(url(short))

    # Session, user, assignment with item, queue and rubric, criteria, and two
    # permission reads and the lead check for the admin navigation.
    with django_assert_num_queries(7):
        reviewer_client.get(url(short))
    with django_assert_num_queries(7):
        reviewer_client.get(url(long))


def disputed_pairwise(queue, reviewer):
    """Return a pairwise item on which ``reviewer`` and a colleague picked different candidates."""
    queue.reviews_per_item = 2
    queue.save()
    item = ReviewItemFactory(queue=queue, response=RESPONSE, reference_response=CANDIDATE_B, is_pairwise=True)
    colleague = MembershipFactory(queue=queue).user
    for user, pick in [(reviewer, "a"), (colleague, "b")]:
        review_submit(assignment=assignment_claim(queue=queue, reviewer=user), reviewer=user, verdict="approved", preferred=pick)
    lead = MembershipFactory(queue=queue, role=QueueMembership.Role.LEAD).user
    item.refresh_from_db()
    return item, lead


def test_adjudication_picks_candidate(client, queue, reviewer):
    item, lead = disputed_pairwise(queue, reviewer)
    client.force_login(lead)
    adjudicate_url = reverse("admin:workspace_adjudicate", args=[item.pk])

    page = client.get(adjudicate_url)
    missing = client.post(adjudicate_url, verdict())
    decided = client.post(adjudicate_url, verdict(preferred="b"))

    assert item.state == "adjudication"
    assert "Prefers candidate A" in page.content.decode()
    assert "Prefers candidate B" in page.content.decode()
    assert 'id="candidate-b"' in page.content.decode()
    assert missing.context["form"].errors["preferred"] == ["Pick the better candidate, A or B, before giving a verdict."]
    assert decided.status_code == 302
    assert Review.objects.get(kind=Review.Kind.ADJUDICATION).preferred == "b"
