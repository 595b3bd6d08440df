import re

import pytest

from reviews.models import Assignment, QueueMembership, Review, ReviewItem
from rubrics.models import Criterion
from tests.browser.conftest import save_screenshot, sign_in
from tests.factories import CriterionFactory, MembershipFactory, ReviewItemFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

REPLY = "Restart the router.\n\n```sh\nping 192.0.2.1\n```\n\nThen **call us** back."
REWRITE_ADDITION = " Hold the reset button for ten seconds first."


@pytest.fixture
def review_queue(queue, reviewer):
    CriterionFactory(
        rubric=queue.rubric, key="accurate", label="Accurate", required=False,
        guidance="Compare with the **tool result**.", kind=Criterion.Kind.PASS_FAIL,
    )
    for number in range(4):
        ReviewItemFactory(queue=queue, external_id=f"chat-{number}", response={"role": "assistant", "content": REPLY})
    return queue


def current_item(page) -> str:
    return page.locator(".breadcrumbs").inner_text().rsplit("›", 1)[-1].strip()


def submit_and_wait(page, previous_item: str) -> None:
    page.keyboard.press("Control+Enter")
    page.wait_for_function(
        "previous => !document.querySelector('.breadcrumbs') || !document.querySelector('.breadcrumbs').innerText.endsWith(previous)",
        arg=previous_item,
    )


def test_reviewer_session_by_keyboard(page, live_server, review_queue, reviewer):
    sign_in(page, live_server, "reviewer")
    page.goto(f"{live_server.url}/admin/workspace/")
    page.locator("button.start-reviewing").focus()
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/admin/workspace/assignments/\d+/$"))
    assert page.locator("#reply-under-review pre code").inner_text().strip() == "ping 192.0.2.1"
    assert re.match(r"\d+:\d\d left on your lease", page.locator("#lease-countdown").inner_text())

    first = current_item(page)
    page.keyboard.press("a")
    assert page.locator("#id_verdict_0").is_checked()
    submit_and_wait(page, first)

    second = current_item(page)
    page.keyboard.press("f")
    assert page.evaluate("document.activeElement.name") == "corrected_response"
    page.keyboard.press("End")
    page.keyboard.press("Control+End")
    page.keyboard.type(REWRITE_ADDITION)
    page.wait_for_function("document.getElementById('rewrite-diff').innerText.endsWith('seconds first.')")
    assert page.locator("#rewrite-diff ins").count() >= 1
    save_screenshot(page, "review_page_needs_fix_diff")
    assert page.locator("#rewrite-diff-summary").inner_text().startswith("8 words added, 0 removed")
    submit_and_wait(page, second)

    third = current_item(page)
    page.keyboard.press("r")
    assert page.evaluate("document.activeElement.name") == "reason"
    page.keyboard.type("Recommends pinging an address outside the customer's network.")
    submit_and_wait(page, third)

    fourth = current_item(page)
    page.keyboard.press("s")
    page.wait_for_load_state()
    page.wait_for_selector(".messagelist")

    reviews = {review.item.external_id: review for review in Review.objects.select_related("item")}
    assert reviews[first.split(":", 1)[1]].verdict == Review.Verdict.APPROVED
    assert reviews[second.split(":", 1)[1]].verdict == Review.Verdict.NEEDS_FIX
    assert reviews[second.split(":", 1)[1]].corrected_response == REPLY + REWRITE_ADDITION
    assert reviews[third.split(":", 1)[1]].reason.startswith("Recommends pinging")
    assert all(review.time_spent_seconds >= 0 for review in reviews.values())
    assert len(reviews) == 3
    skipped = ReviewItem.objects.get(external_id=fourth.split(":", 1)[1])
    assert skipped.assignments.filter(state=Assignment.State.RELEASED).count() == 1
    assert "Skipped item" in page.locator(".messagelist").inner_text()


def test_release_by_keyboard(page, live_server, review_queue, reviewer):
    sign_in(page, live_server, "reviewer")
    page.goto(f"{live_server.url}/admin/workspace/")
    save_screenshot(page, "queue_list")
    page.locator("button.start-reviewing").focus()
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/admin/workspace/assignments/\d+/$"))

    page.keyboard.press("x")
    page.wait_for_url(f"{live_server.url}/admin/workspace/")

    assert "Released item" in page.locator(".messagelist").inner_text()
    assert not Assignment.objects.filter(state=Assignment.State.CLAIMED).exists()


def test_lead_adjudicates_by_keyboard(page, live_server, queue, reviewer):
    lead = MembershipFactory(queue=queue, role=QueueMembership.Role.LEAD).user
    item = ReviewItemFactory(
        queue=queue, state=ReviewItem.State.ADJUDICATION, response={"role": "assistant", "content": REPLY}
    )
    for user, verdict, extra in [
        (reviewer, Review.Verdict.APPROVED, {}),
        (MembershipFactory(queue=queue).user, Review.Verdict.REJECTED, {"reason": "Pings a **public** address."}),
    ]:
        assignment = Assignment.objects.create(
            item=item, queue=queue, reviewer=user, state=Assignment.State.SUBMITTED,
            claimed_at=item.created_at, expires_at=item.created_at, slot=Assignment.objects.filter(item=item).count() + 1,
        )
        Review.objects.create(
            item=item, assignment=assignment, reviewer=user, rubric=queue.rubric, verdict=verdict,
            submitted_at=item.created_at, **extra,
        )

    sign_in(page, live_server, lead.username)
    page.goto(f"{live_server.url}/admin/workspace/adjudication/{item.pk}/")
    assert page.locator(".review-card").count() == 2
    assert page.locator(".review-card strong").inner_text() == "public"
    save_screenshot(page, "adjudication_page")

    page.keyboard.press("f")
    page.keyboard.press("Control+End")
    page.keyboard.type(REWRITE_ADDITION)
    page.keyboard.press("Control+Enter")
    page.wait_for_url(f"{live_server.url}/admin/workspace/adjudication/")

    item.refresh_from_db()
    assert item.state == ReviewItem.State.DONE
    assert item.final_review.kind == Review.Kind.ADJUDICATION
    assert item.final_review.corrected_response == REPLY + REWRITE_ADDITION
