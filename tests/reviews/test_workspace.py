import datetime
import html
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from reviews.admin.dashboard import dashboard_build
from reviews.models import Assignment, QueueMembership, Review, ReviewItem
from reviews.services import assignment_claim
from rubrics.models import Criterion
from tests.factories import (
    AssignmentFactory,
    CriterionFactory,
    MembershipFactory,
    QueueFactory,
    ReviewItemFactory,
    UserFactory,
    items_in_every_state,
)

pytestmark = pytest.mark.django_db

XSS_PAYLOAD = "<script>alert(1)</script><img src=x onerror=alert(1)>"

TOOL_CONVERSATION = [
    {"role": "system", "content": "You are the support assistant of Acme Broadband."},
    {"role": "user", "content": "Is there an outage in 94107?"},
    {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {
                "id": "call_outage_1",
                "type": "function",
                "function": {"name": "check_outage", "arguments": '{"zip": "94107", "service": "fiber"}'},
            }
        ],
    },
    {"role": "tool", "tool_call_id": "call_outage_1", "content": '{"outage": false}'},
]
REPLY = "There is no outage in 94107 right now. Restart the router and check the cable."


@pytest.fixture
def criteria(queue):
    rubric = queue.rubric
    return [
        CriterionFactory(
            rubric=rubric, key="correct", label="Factually correct", guidance="Check every number against the tool result.",
            position=0,
        ),
        CriterionFactory(
            rubric=rubric, key="tone", label="Tone", kind=Criterion.Kind.SCALE, min_value=1, max_value=5, position=1,
        ),
        CriterionFactory(
            rubric=rubric, key="length", label="Length", kind=Criterion.Kind.CHOICE,
            options=["too short", "right", "too long"], required=False, position=2,
        ),
    ]


@pytest.fixture
def items(queue, criteria):
    return [
        ReviewItemFactory(queue=queue, conversation=TOOL_CONVERSATION, response={"role": "assistant", "content": REPLY})
        for _ in range(4)
    ]


@pytest.fixture
def reviewer_client(client, reviewer):
    client.force_login(reviewer)
    return client


def review_data(**overrides) -> dict:
    data = {
        "score_correct": "pass", "score_tone": "4", "score_length": "right", "verdict": "approved",
        "corrected_response": REPLY, "reason": "", "time_spent_seconds": "42",
    }
    data.update(overrides)
    return data


def page_text(response) -> str:
    return html.unescape(response.content.decode())


def claim_url(queue) -> str:
    return reverse("admin:workspace_claim", args=[queue.pk])


def assignment_url(assignment) -> str:
    return reverse("admin:workspace_assignment", args=[assignment.pk])


def claim(client, queue) -> Assignment:
    response = client.post(claim_url(queue))
    assignment = Assignment.objects.filter(state=Assignment.State.CLAIMED).latest("id")
    assert response.status_code == 302
    assert response.url == assignment_url(assignment)
    return assignment


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def test_reviewer_flow_end_to_end(reviewer_client, queue, items):
    index = reviewer_client.get(reverse("admin:workspace"))
    assert index.status_code == 200
    assert queue.name in page_text(index)
    assert "Start reviewing" in page_text(index)

    first = claim(reviewer_client, queue)
    page = reviewer_client.get(assignment_url(first))
    assert "check_outage" in page_text(page)
    assert "result of call <code>call_outage_1</code>" in page_text(page)

    approved = reviewer_client.post(assignment_url(first), review_data())
    second = Assignment.objects.get(state=Assignment.State.CLAIMED)
    assert approved.url == assignment_url(second)
    assert second.item != first.item

    fixed = reviewer_client.post(
        assignment_url(second), review_data(verdict="needs_fix", corrected_response="There is no outage in 94107.")
    )
    third = Assignment.objects.get(state=Assignment.State.CLAIMED)
    assert fixed.url == assignment_url(third)

    rejected = reviewer_client.post(
        assignment_url(third), review_data(verdict="rejected", reason="It invents a cable fault.")
    )
    fourth = Assignment.objects.get(state=Assignment.State.CLAIMED)
    assert rejected.url == assignment_url(fourth)

    released = reviewer_client.post(reverse("admin:workspace_release", args=[fourth.pk]))
    assert released.url == reverse("admin:workspace")
    verdicts = list(Review.objects.order_by("id").values_list("verdict", flat=True))
    assert verdicts == ["approved", "needs_fix", "rejected"]
    fourth.refresh_from_db()
    assert fourth.state == Assignment.State.RELEASED


def test_workspace_lists_queue_counts(reviewer_client, reviewer, queue, items):
    assignment = assignment_claim(queue=queue, reviewer=reviewer)
    reviewer_client.post(assignment_url(assignment), review_data())

    response = reviewer_client.get(reverse("admin:workspace"))

    row = next(row for row in response.context["queues"] if row.pk == queue.pk)
    assert row.pending == 2
    assert row.in_review == 1
    assert row.finished == 1
    assert row.adjudicated == 0
    assert row.mine == 1


def test_workspace_hides_other_queues(reviewer_client, queue):
    other = QueueFactory(name="Billing escalations")

    response = reviewer_client.get(reverse("admin:workspace"))

    assert [row.pk for row in response.context["queues"]] == [queue.pk]
    assert other.name not in page_text(response)


def test_workspace_requires_staff_login(client, queue):
    response = client.get(reverse("admin:workspace"))

    assert response.status_code == 302
    assert response.url.startswith(reverse("admin:login"))


def test_workspace_rejects_non_staff_user(client, queue):
    member = UserFactory(username="customer", is_staff=False)
    MembershipFactory(queue=queue, user=member)
    client.force_login(member)

    response = client.get(reverse("admin:workspace"))

    assert response.status_code == 302
    assert response.url.startswith(reverse("admin:login"))


def test_claim_requires_post(reviewer_client, queue, items):
    response = reviewer_client.get(claim_url(queue))

    assert response.status_code == 405
    assert not Assignment.objects.exists()


def test_claim_empty_queue_says_nothing_left(reviewer_client, queue):
    response = reviewer_client.post(claim_url(queue), follow=True)

    assert response.redirect_chain[-1][0] == reverse("admin:workspace")
    assert messages_of(response) == [
        f"No items left to claim in {queue.name}. You have reviewed every item available to you."
    ]


def test_claim_says_items_held_by_others(reviewer_client, queue):
    colleague = UserFactory(username="colleague")
    MembershipFactory(queue=queue, user=colleague)
    ReviewItemFactory(queue=queue)
    assignment_claim(queue=queue, reviewer=colleague)

    response = reviewer_client.post(claim_url(queue), follow=True)

    message = messages_of(response)[0]
    assert message.startswith(f"No items left to claim in {queue.name}.")
    assert "1 item is still held by other reviewers" in message
    assert "reviewed every item" not in message


def test_claim_paused_queue_shows_reason(reviewer_client, queue, items):
    queue.is_active = False
    queue.save()

    response = reviewer_client.post(claim_url(queue), follow=True)

    assert response.redirect_chain[-1][0] == reverse("admin:workspace")
    assert "is paused" in messages_of(response)[0]
    assert not Assignment.objects.exists()


def test_claim_returns_held_assignment(reviewer_client, queue, items):
    first = claim(reviewer_client, queue)

    again = reviewer_client.post(claim_url(queue))

    assert again.url == assignment_url(first)
    assert Assignment.objects.count() == 1


def test_assignment_page_shows_conversation(reviewer_client, queue, items):
    assignment = claim(reviewer_client, queue)

    text = page_text(reviewer_client.get(assignment_url(assignment)))

    assert "You are the support assistant of Acme Broadband." in text
    assert "Is there an outage in 94107?" in text
    assert "Tool call check_outage" in text.replace("<code>", "").replace("</code>", "")
    assert '{\n  "service": "fiber",\n  "zip": "94107"\n}' in text
    assert "tool</span> · result of call <code>call_outage_1</code>" in text
    assert '{"outage": false}' in text


def test_assignment_page_highlights_reply(reviewer_client, queue, items):
    assignment = claim(reviewer_client, queue)

    content = reviewer_client.get(assignment_url(assignment)).content.decode()

    highlighted = content.split('class="turn turn-assistant turn-under-review"', 1)[1].split("</div>\n</div>", 1)[0]
    assert html.escape(REPLY) in highlighted


def test_assignment_page_shows_rubric_and_lease(reviewer_client, queue, items):
    assignment = claim(reviewer_client, queue)

    response = reviewer_client.get(assignment_url(assignment))

    text = page_text(response)
    assert queue.rubric.guidelines in text
    assert f"version {queue.rubric.version}" in text
    assert assignment.expires_at.isoformat(timespec="seconds")[:16] in text
    assert "Check every number against the tool result." in text


def test_assignment_page_builds_criteria_fields(reviewer_client, queue, items):
    assignment = claim(reviewer_client, queue)

    response = reviewer_client.get(assignment_url(assignment))

    content = response.content.decode()
    form = response.context["form"]
    assert form.fields["score_correct"].required
    assert [value for value, _label in form.fields["score_correct"].choices] == ["", "pass", "fail"]
    assert 'type="number" name="score_tone"' in content
    assert 'min="1"' in content
    assert 'max="5"' in content
    assert [value for value, _label in form.fields["score_length"].choices] == ["", "too short", "right", "too long"]
    assert not form.fields["score_length"].required
    assert content.count('title="required">*</span> <small>(required)</small>') == 2


def test_assignment_page_prefills_rewrite(reviewer_client, queue, items):
    assignment = claim(reviewer_client, queue)

    response = reviewer_client.get(assignment_url(assignment))

    assert response.context["form"]["corrected_response"].value() == REPLY
    assert f">\n{html.escape(REPLY)}</textarea>" in response.content.decode()


def test_assignment_page_shows_reference_reply(reviewer_client, queue, criteria):
    ReviewItemFactory(queue=queue, reference_response={"role": "assistant", "content": "Our outage map shows none."})
    assignment = claim(reviewer_client, queue)

    text = page_text(reviewer_client.get(assignment_url(assignment)))

    assert "reference reply" in text
    assert "Our outage map shows none." in text


def test_assignment_page_escapes_reply(reviewer_client, queue, criteria):
    ReviewItemFactory(
        queue=queue,
        conversation=[{"role": "user", "content": XSS_PAYLOAD}],
        response={"role": "assistant", "content": XSS_PAYLOAD},
        reference_response={"role": "assistant", "content": XSS_PAYLOAD},
    )
    assignment = claim(reviewer_client, queue)

    content = reviewer_client.get(assignment_url(assignment)).content.decode()

    assert "&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;" in content
    assert "<script>alert(1)" not in content
    assert "<img src=x" not in content


def test_assignment_page_escapes_tool_call(reviewer_client, queue, criteria):
    conversation = [
        {
            "role": "assistant", "content": None,
            "tool_calls": [{"id": XSS_PAYLOAD, "function": {"name": XSS_PAYLOAD, "arguments": XSS_PAYLOAD}}],
        },
        {"role": "tool", "tool_call_id": XSS_PAYLOAD, "content": XSS_PAYLOAD},
    ]
    ReviewItemFactory(queue=queue, conversation=conversation)
    assignment = claim(reviewer_client, queue)

    content = reviewer_client.get(assignment_url(assignment)).content.decode()

    assert "<script>alert(1)" not in content
    assert "<img src=x" not in content


def test_submit_approved_saves_review(reviewer_client, reviewer, queue, items):
    assignment = claim(reviewer_client, queue)

    reviewer_client.post(assignment_url(assignment), review_data())

    review = Review.objects.get()
    assert review.verdict == Review.Verdict.APPROVED
    assert review.reviewer == reviewer
    assert review.scores == {"correct": True, "tone": 4, "length": "right"}
    assert review.corrected_response == ""
    assert review.time_spent_seconds == 42
    assert review.rubric == queue.rubric


def test_submit_needs_fix_saves_rewrite(reviewer_client, queue, items):
    assignment = claim(reviewer_client, queue)

    reviewer_client.post(
        assignment_url(assignment),
        review_data(verdict="needs_fix", score_correct="fail", corrected_response="No outage.\r\nRestart the router."),
    )

    review = Review.objects.get()
    assert review.verdict == Review.Verdict.NEEDS_FIX
    assert review.corrected_response == "No outage.\nRestart the router."
    assert review.scores["correct"] is False


def test_submit_rejected_saves_reason(reviewer_client, queue, items):
    assignment = claim(reviewer_client, queue)

    reviewer_client.post(assignment_url(assignment), review_data(verdict="rejected", reason="Invents a cable fault."))

    review = Review.objects.get()
    assert review.verdict == Review.Verdict.REJECTED
    assert review.reason == "Invents a cable fault."


def test_submit_optional_score_may_be_blank(reviewer_client, queue, items):
    assignment = claim(reviewer_client, queue)

    reviewer_client.post(assignment_url(assignment), review_data(score_length=""))

    assert Review.objects.get().scores == {"correct": True, "tone": 4}


def test_submit_lands_on_next_item(reviewer_client, queue, items):
    assignment = claim(reviewer_client, queue)

    response = reviewer_client.post(assignment_url(assignment), review_data(), follow=True)

    following = Assignment.objects.get(state=Assignment.State.CLAIMED)
    assert response.redirect_chain[-1][0] == assignment_url(following)
    assert following.item_id != assignment.item_id
    assert messages_of(response) == [f"Saved your approved verdict on item {assignment.item}."]


def test_submit_last_item_returns_to_queue_list(reviewer_client, queue, criteria):
    ReviewItemFactory(queue=queue)
    assignment = claim(reviewer_client, queue)

    response = reviewer_client.post(assignment_url(assignment), review_data(), follow=True)

    assert response.redirect_chain[-1][0] == reverse("admin:workspace")
    assert messages_of(response)[-1].startswith(f"No items left to claim in {queue.name}.")


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        (
            {"verdict": "needs_fix"}, "corrected_response",
            "The corrected response is the same as the original reply; edit it, or choose approved.",
        ),
        (
            {"verdict": "needs_fix", "corrected_response": "   "}, "corrected_response",
            "A needs-fix verdict requires the corrected response; write the reply as it should read.",
        ),
        (
            {"verdict": "rejected", "reason": ""}, "reason",
            "A rejected verdict requires a reason; say what is wrong with the reply.",
        ),
        (
            {"score_correct": ""}, "score_correct",
            "Criterion “Factually correct” is required; give it a score.",
        ),
        ({"score_tone": ""}, "score_tone", "Criterion “Tone” is required; give it a score."),
        ({"score_tone": "9"}, "score_tone", "Ensure this value is less than or equal to 5."),
        ({"score_length": "medium"}, "score_length", "Select a valid choice. medium is not one of the available choices."),
        ({"verdict": ""}, "verdict", "Choose a verdict: approved, needs fix or rejected."),
        ({"time_spent_seconds": "-5"}, "time_spent_seconds", "Ensure this value is greater than or equal to 0."),
    ],
)
def test_invalid_review_rerenders_with_message(reviewer_client, queue, items, overrides, field, message):
    assignment = claim(reviewer_client, queue)

    response = reviewer_client.post(assignment_url(assignment), review_data(**overrides))

    assert response.status_code == 200
    assert response.context["form"].errors[field] == [message]
    assert html.escape(message) in response.content.decode()
    assert not Review.objects.exists()


def test_invalid_review_keeps_typed_text(reviewer_client, queue, items):
    assignment = claim(reviewer_client, queue)

    response = reviewer_client.post(
        assignment_url(assignment),
        review_data(verdict="rejected", reason="", score_tone="2", corrected_response="My draft rewrite", time_spent_seconds="75"),
    )

    form = response.context["form"]
    assert form["score_tone"].value() == "2"
    assert form["corrected_response"].value() == "My draft rewrite"
    assert form["verdict"].value() == "rejected"
    assert form["time_spent_seconds"].value() == "75"
    assert re.search(r'value="rejected"[^>]* checked', response.content.decode())


def test_needs_fix_with_browser_line_breaks_is_unchanged(reviewer_client, queue, criteria):
    ReviewItemFactory(queue=queue, response={"role": "assistant", "content": "Line one.\nLine two."})
    assignment = claim(reviewer_client, queue)

    response = reviewer_client.post(
        assignment_url(assignment), review_data(verdict="needs_fix", corrected_response="Line one.\r\nLine two.")
    )

    assert response.status_code == 200
    assert "The corrected response is the same" in response.context["form"].errors["corrected_response"][0]


def test_release_returns_item_to_pool(reviewer_client, queue, items):
    assignment = claim(reviewer_client, queue)

    response = reviewer_client.post(reverse("admin:workspace_release", args=[assignment.pk]), follow=True)

    assignment.refresh_from_db()
    assignment.item.refresh_from_db()
    assert assignment.state == Assignment.State.RELEASED
    assert assignment.item.state == ReviewItem.State.PENDING
    assert messages_of(response) == [f"Released item {assignment.item} back to {queue.name}."]


def test_release_twice_shows_conflict(reviewer_client, queue, items):
    assignment = claim(reviewer_client, queue)
    reviewer_client.post(reverse("admin:workspace_release", args=[assignment.pk]))

    response = reviewer_client.post(reverse("admin:workspace_release", args=[assignment.pk]), follow=True)

    assert "is released, not claimed" in messages_of(response)[-1]


def test_released_assignment_redirects_to_queue_list(reviewer_client, queue, items):
    assignment = claim(reviewer_client, queue)
    reviewer_client.post(reverse("admin:workspace_release", args=[assignment.pk]))

    response = reviewer_client.get(assignment_url(assignment), follow=True)

    assert response.redirect_chain[-1][0] == reverse("admin:workspace")
    assert messages_of(response)[-1] == (
        f"Your claim on item {assignment.item} was released. Claim again from {queue.name} to continue."
    )


def test_expired_lease_redirects_to_queue_list(reviewer_client, queue, items):
    assignment = claim(reviewer_client, queue)
    Assignment.objects.filter(pk=assignment.pk).update(expires_at=timezone.now() - datetime.timedelta(minutes=1))

    response = reviewer_client.post(assignment_url(assignment), review_data(), follow=True)

    assert response.redirect_chain[-1][0] == reverse("admin:workspace")
    assert messages_of(response) == [
        f"Your lease on item {assignment.item} expired. Claim again from {queue.name} to continue."
    ]
    assert not Review.objects.exists()


def test_submitted_assignment_redirects_to_queue_list(reviewer_client, queue, criteria):
    ReviewItemFactory(queue=queue)
    assignment = claim(reviewer_client, queue)
    reviewer_client.post(assignment_url(assignment), review_data())

    response = reviewer_client.get(assignment_url(assignment), follow=True)

    assert response.redirect_chain[-1][0] == reverse("admin:workspace")
    assert messages_of(response)[-1] == f"You already reviewed item {assignment.item}. Claim the next one from {queue.name}."


def test_outsider_claim_is_not_found(client, outsider, queue, items):
    client.force_login(outsider)

    response = client.post(claim_url(queue))

    assert response.status_code == 404
    assert not Assignment.objects.exists()


def test_other_reviewers_assignment_is_not_found(client, queue, items, reviewer):
    colleague = UserFactory(username="colleague")
    MembershipFactory(queue=queue, user=colleague)
    assignment = assignment_claim(queue=queue, reviewer=reviewer)
    client.force_login(colleague)

    page = client.get(assignment_url(assignment))
    submit = client.post(assignment_url(assignment), review_data())
    release = client.post(reverse("admin:workspace_release", args=[assignment.pk]))

    assert page.status_code == 404
    assert submit.status_code == 404
    assert release.status_code == 404
    assignment.refresh_from_db()
    assert assignment.state == Assignment.State.CLAIMED


def test_assignment_after_removal_is_not_found(reviewer_client, reviewer, queue, items):
    assignment = AssignmentFactory(item=items[0], reviewer=reviewer)
    QueueMembership.objects.filter(queue=queue, user=reviewer).delete()

    response = reviewer_client.get(assignment_url(assignment))

    assert response.status_code == 404


def test_unknown_assignment_is_not_found(reviewer_client):
    assert reviewer_client.get(reverse("admin:workspace_assignment", args=[999999])).status_code == 404


def test_workspace_lists_held_claims(reviewer_client, queue, items):
    assignment = claim(reviewer_client, queue)

    content = reviewer_client.get(reverse("admin:workspace")).content.decode()

    assert f'href="{assignment_url(assignment)}"' in content


def test_workspace_marks_paused_queue(reviewer_client, queue):
    queue.is_active = False
    queue.save()

    content = reviewer_client.get(reverse("admin:workspace")).content.decode()

    assert "Paused" in content
    assert claim_url(queue) not in content


def test_workspace_links_adjudication_for_lead(client, queue, criteria):
    lead = UserFactory(username="lead")
    MembershipFactory(queue=queue, user=lead, role=QueueMembership.Role.LEAD)
    ReviewItemFactory(queue=queue, state=ReviewItem.State.ADJUDICATION)
    client.force_login(lead)

    response = client.get(reverse("admin:workspace"))

    assert response.context["adjudication_waiting"] == 1
    assert "1 item awaiting adjudication" in response.content.decode()


def test_assignment_page_offers_release_and_timer(reviewer_client, queue, items):
    assignment = claim(reviewer_client, queue)

    content = reviewer_client.get(assignment_url(assignment)).content.decode()

    assert f'action="{reverse("admin:workspace_release", args=[assignment.pk])}"' in content
    assert 'type="hidden" name="time_spent_seconds" value="0"' in content
    assert 'src="/static/reviews/workspace.js"' in content
    assert f'data-expires="{assignment.expires_at.isoformat()}"' in content


def test_admin_index_links_to_workspace(client, reviewer):
    client.force_login(reviewer)

    response = client.get("/admin/")

    assert response.status_code == 200
    assert 'href="/admin/workspace/"' in response.content.decode()
    assert "Start reviewing" in response.content.decode()


def test_site_root_redirects_to_admin(client):
    response = client.get("/")

    assert response.status_code == 302
    assert response["Location"] == "/admin/"


def skip_url(assignment) -> str:
    return reverse("admin:workspace_skip", args=[assignment.pk])


def test_queue_list_shows_progress_bars(reviewer_client, reviewer, queue, items):
    assignment = assignment_claim(queue=queue, reviewer=reviewer)
    reviewer_client.post(assignment_url(assignment), review_data())

    response = reviewer_client.get(reverse("admin:workspace"))

    row = next(row for row in response.context["queues"] if row.pk == queue.pk)
    everyone = {segment["key"]: segment for segment in row.progress["everyone"]}
    mine = {segment["key"]: segment for segment in row.progress["mine"]}
    assert row.progress["total"] == 4
    assert everyone["finished"]["count"] == 1
    assert everyone["in_review"]["count"] == 1
    assert everyone["pending"]["count"] == 2
    assert everyone["finished"]["percent"] == 25
    assert mine["reviewed"]["count"] == 1
    assert mine["held"]["count"] == 1
    assert mine["rest"]["count"] == 2
    assert 'class="progress-finished" style="width: 25.00%"' in response.content.decode()


def test_queue_list_progress_matches_dashboard(reviewer_client, manager, queue):
    items_in_every_state(queue)

    response = reviewer_client.get(reverse("admin:workspace"))

    row = next(row for row in response.context["queues"] if row.pk == queue.pk)
    dashboard = next(entry for entry in dashboard_build(user=manager)["queues"] if entry.queue == queue)
    everyone = [(segment["key"], segment["label"], segment["count"], segment["detail"])
                for segment in row.progress["everyone"]]
    assert everyone == [(segment.key, segment.label, segment.count, segment.detail)
                        for segment in dashboard.progress.segments]


def test_queue_list_progress_legend(reviewer_client, queue):
    items_in_every_state(queue)

    content = reviewer_client.get(reverse("admin:workspace")).content.decode()

    assert 'title="Finished: 6, 2 adjudicated"' in content
    assert 'Finished <b class="everyone-finished">6</b> <small class="segment-detail">2 adjudicated</small>' in content
    assert 'Awaiting adjudication <b class="everyone-adjudication">1</b>' in content
    assert ">Done <b" not in content


def test_queue_list_progress_of_empty_queue(reviewer_client, queue):
    response = reviewer_client.get(reverse("admin:workspace"))

    row = next(row for row in response.context["queues"] if row.pk == queue.pk)
    assert row.progress["total"] == 0
    assert all(segment["percent"] == 0 for segment in row.progress["everyone"])


@pytest.mark.parametrize("queue_count", [1, 5])
def test_queue_list_query_count_is_constant(client, django_assert_num_queries, queue_count):
    user = UserFactory(username="busy-reviewer")
    for _ in range(queue_count):
        other = QueueFactory()
        MembershipFactory(queue=other, user=user)
        for item in ReviewItemFactory.create_batch(3, queue=other):
            AssignmentFactory(item=item, reviewer=user)
    client.force_login(user)

    # Session, user, queues with counts, adjudication count, two permission
    # reads for the admin navigation, and the held claims with their items.
    with django_assert_num_queries(7):
        response = client.get(reverse("admin:workspace"))

    assert len(response.context["queues"]) == queue_count


def test_skip_opens_next_item(reviewer_client, reviewer, queue, items):
    first = claim(reviewer_client, queue)

    response = reviewer_client.post(skip_url(first))

    second = Assignment.objects.filter(state=Assignment.State.CLAIMED).get()
    first.refresh_from_db()
    assert first.state == Assignment.State.RELEASED
    assert second.item != first.item
    assert response.url == assignment_url(second)
    assert reviewer_client.session["workspace_skipped_items"] == {str(queue.pk): [first.item_id]}


def test_skip_passes_over_skipped_items(reviewer_client, queue, items):
    first = claim(reviewer_client, queue)
    reviewer_client.post(skip_url(first))
    second = Assignment.objects.filter(state=Assignment.State.CLAIMED).get()

    reviewer_client.post(skip_url(second))

    third = Assignment.objects.filter(state=Assignment.State.CLAIMED).get()
    assert third.item_id not in {first.item_id, second.item_id}


def test_skip_of_last_item_gives_skipped_back(reviewer_client, queue):
    only = ReviewItemFactory(queue=queue)
    first = claim(reviewer_client, queue)

    response = reviewer_client.post(skip_url(first), follow=True)

    again = Assignment.objects.filter(state=Assignment.State.CLAIMED).get()
    assert again.item == only
    assert response.redirect_chain[-1][0] == assignment_url(again)
    assert any("Only items you skipped are left" in message for message in messages_of(response))
    assert str(queue.pk) not in reviewer_client.session["workspace_skipped_items"]


def test_skip_requires_post(reviewer_client, queue, items):
    assignment = claim(reviewer_client, queue)

    assert reviewer_client.get(skip_url(assignment)).status_code == 405


def test_skip_other_reviewers_assignment_is_not_found(reviewer_client, queue, items):
    other = UserFactory(username="other-reviewer")
    MembershipFactory(queue=queue, user=other)
    assignment = assignment_claim(queue=queue, reviewer=other)

    assert reviewer_client.post(skip_url(assignment)).status_code == 404
    assignment.refresh_from_db()
    assert assignment.state == Assignment.State.CLAIMED


def test_skip_released_item_shows_conflict(reviewer_client, queue, items):
    assignment = claim(reviewer_client, queue)
    reviewer_client.post(reverse("admin:workspace_release", args=[assignment.pk]))

    response = reviewer_client.post(skip_url(assignment), follow=True)

    assert response.redirect_chain[-1][0] == reverse("admin:workspace")
    assert any("nothing to release" in message for message in messages_of(response))


def test_assignment_page_lists_shortcuts(reviewer_client, queue, items):
    assignment = claim(reviewer_client, queue)

    content = reviewer_client.get(assignment_url(assignment)).content.decode()

    for marker in ['data-shortcut="a"', 'data-shortcut="f"', 'data-shortcut="r"', 'data-shortcut="s"', 'data-shortcut="x"']:
        assert marker in content
    assert "<kbd>Ctrl</kbd>+<kbd>Enter</kbd> submit and open the next item" in content


def test_assignment_page_renders_reply_markdown(reviewer_client, queue, criteria):
    reply = "Restart it:\n\n```sh\nsudo reboot\n```\n\n**Then** check <script>alert(1)</script> [x](javascript:alert(1))"
    ReviewItemFactory(queue=queue, response={"role": "assistant", "content": reply})
    assignment = claim(reviewer_client, queue)

    content = reviewer_client.get(assignment_url(assignment)).content.decode()

    assert "<pre><code>sudo reboot\n</code></pre>" in content
    assert "<strong>Then</strong>" in content
    assert "<script>alert(1)</script>" not in content
    assert 'href="javascript:' not in content


def test_assignment_page_renders_guidance_markdown(reviewer_client, queue, items):
    queue.rubric.guidelines = "Check **every** number. <img src=x onerror=alert(1)>"
    queue.rubric.save()
    assignment = claim(reviewer_client, queue)

    content = reviewer_client.get(assignment_url(assignment)).content.decode()

    assert "Check <strong>every</strong> number." in content
    assert "<img src=x" not in content
    assert "Check every number against the tool result." in content


def test_assignment_page_embeds_original_for_diff(reviewer_client, queue, criteria):
    ReviewItemFactory(queue=queue, response={"role": "assistant", "content": "</script><script>alert(1)</script>"})
    assignment = claim(reviewer_client, queue)

    content = reviewer_client.get(assignment_url(assignment)).content.decode()

    assert '<script id="original-response" type="application/json">' in content
    assert "\\u003C/script\\u003E\\u003Cscript\\u003Ealert(1)" in content



def form_action(content: str, marker: str) -> str:
    """Return the action of the page's first post form whose markup contains ``marker``."""
    forms = re.findall(r'(<form method="post" action="([^"]+)".*?</form>)', content, re.DOTALL)
    return html.unescape(next(action for markup, action in forms if marker in markup))


@pytest.mark.parametrize("release_next", [False, True])
def test_skipped_item_stays_away_from_start_reviewing(reviewer_client, queue, criteria, release_next):
    ReviewItemFactory.create_batch(150, queue=queue, conversation=TOOL_CONVERSATION,
                                   response={"role": "assistant", "content": REPLY})
    page = reviewer_client.post(claim_url(queue), follow=True)
    for _ in range(11):
        page = reviewer_client.post(page.redirect_chain[-1][0], review_data(), follow=True)
    skipped = Assignment.objects.get(state=Assignment.State.CLAIMED)

    page = reviewer_client.post(form_action(page.content.decode(), 'id="skip-form"'), follow=True)
    following = Assignment.objects.get(state=Assignment.State.CLAIMED)
    if release_next:
        reviewer_client.post(reverse("admin:workspace_release", args=[following.pk]))
    queue_list = reviewer_client.get(reverse("admin:workspace")).content.decode()
    page = reviewer_client.post(form_action(queue_list, 'class="button start-reviewing"'), follow=True)

    opened = Assignment.objects.get(state=Assignment.State.CLAIMED)
    assert page.redirect_chain[-1][0] == assignment_url(opened)
    assert opened.item_id != skipped.item_id
    assert opened.item_id == following.item_id
