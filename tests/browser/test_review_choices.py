import pytest

from reviews.models import Review
from reviews.services import assignment_claim, review_submit
from tests.browser.conftest import save_screenshot, sign_in
from tests.factories import ReviewItemFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CANDIDATE_A = {"role": "assistant", "content": "Buy a new router."}
CANDIDATE_B = {"role": "assistant", "content": "Check the WAN cable, then restart the router."}
TRANSCRIPT = [
    {"role": "user", "content": "My router blinks amber."},
    {"role": "assistant", "content": "Restart it."},
    {"role": "user", "content": "Still amber."},
]
RESPONSE = {"role": "assistant", "content": "Call your provider."}
ADDITION = " Call us if it stays amber."


def open_claim(page, live_server, queue, reviewer) -> None:
    assignment = assignment_claim(queue=queue, reviewer=reviewer)
    sign_in(page, live_server, reviewer.username)
    page.goto(f"{live_server.url}/admin/workspace/assignments/{assignment.pk}/")


def submit_and_wait(page, live_server) -> None:
    page.keyboard.press("Control+Enter")
    page.wait_for_url(f"{live_server.url}/admin/workspace/")


def test_pairwise_pick_by_keyboard(page, live_server, queue, reviewer):
    ReviewItemFactory(queue=queue, response=CANDIDATE_A, reference_response=CANDIDATE_B, is_pairwise=True)
    open_claim(page, live_server, queue, reviewer)
    assert page.locator("#candidate-a").inner_text().endswith("Buy a new router.")
    assert page.locator(".candidate-chosen").count() == 0

    page.keyboard.press("2")
    assert page.locator("#id_preferred_b").is_checked()
    assert "candidate-chosen" in page.locator("#candidate-b").get_attribute("class")
    assert "candidate-chosen" not in page.locator("#candidate-a").get_attribute("class")

    page.keyboard.press("f")
    editor = page.locator("textarea[name=corrected_response]")
    assert editor.input_value() == CANDIDATE_B["content"]
    page.keyboard.press("Control+End")
    page.keyboard.type(ADDITION)
    page.wait_for_function("document.getElementById('rewrite-diff').innerText.endsWith('stays amber.')")
    assert page.locator("#rewrite-diff del").count() == 0
    assert page.locator("#rewrite-diff-summary").inner_text() == "6 words added, 0 removed"
    save_screenshot(page, "pairwise_pick_b_rewrite")
    submit_and_wait(page, live_server)

    review = Review.objects.get()
    assert review.preferred == Review.Preference.B
    assert review.verdict == Review.Verdict.NEEDS_FIX
    assert review.corrected_response == CANDIDATE_B["content"] + ADDITION


def test_pairwise_without_pick_shows_error(page, live_server, queue, reviewer):
    ReviewItemFactory(queue=queue, response=CANDIDATE_A, reference_response=CANDIDATE_B, is_pairwise=True)
    open_claim(page, live_server, queue, reviewer)

    page.keyboard.press("a")
    page.keyboard.press("Control+Enter")
    page.wait_for_selector(".errorlist")

    assert "Pick the better candidate, A or B" in page.locator(".candidates").locator("xpath=..").inner_text()
    assert not Review.objects.exists()


def test_turn_choice_by_click(page, live_server, queue, reviewer):
    ReviewItemFactory(queue=queue, conversation=TRANSCRIPT, response=RESPONSE, turn_selectable=True)
    open_claim(page, live_server, queue, reviewer)
    assert page.locator("#id_turn_index_3").is_checked()
    assert page.locator("input[name=turn_index]").count() == 2

    page.locator("#id_turn_index_1").click()
    assert "turn-chosen" in page.locator("[data-turn='1']").get_attribute("class")
    assert "turn-after-chosen" in page.locator("[data-turn='2']").get_attribute("class")
    assert "turn-after-chosen" in page.locator("[data-turn='3']").get_attribute("class")
    assert "turn-after-chosen" not in page.locator("[data-turn='0']").get_attribute("class")

    page.keyboard.press("f")
    assert page.locator("textarea[name=corrected_response]").input_value() == "Restart it."
    page.keyboard.press("Control+End")
    page.keyboard.type(" Hold reset for ten seconds.")
    page.wait_for_function("document.getElementById('rewrite-diff').innerText.endsWith('ten seconds.')")
    assert page.locator("#rewrite-diff-summary").inner_text() == "5 words added, 0 removed"
    save_screenshot(page, "turn_choice_first_turn")
    submit_and_wait(page, live_server)

    review = Review.objects.get()
    assert review.turn_index == 1
    assert review.corrected_response == "Restart it. Hold reset for ten seconds."


def test_history_edit_by_keyboard(page, live_server, queue, reviewer):
    ReviewItemFactory(queue=queue, response=RESPONSE)
    first = review_submit(assignment=assignment_claim(queue=queue, reviewer=reviewer), reviewer=reviewer, verdict="approved")
    sign_in(page, live_server, reviewer.username)
    page.goto(f"{live_server.url}/admin/workspace/history/")

    page.locator("a.edit-review").click()
    page.wait_for_url(f"{live_server.url}/admin/workspace/history/{first.pk}/edit/")
    assert page.locator("#id_verdict_0").is_checked()
    page.keyboard.press("r")
    page.keyboard.type("Sends the customer away without trying anything.")
    save_screenshot(page, "history_edit_form")
    page.keyboard.press("Control+Enter")
    page.wait_for_url(f"{live_server.url}/admin/workspace/history/")

    assert "Saved your revised rejected verdict" in page.locator(".messagelist").inner_text()
    current = Review.objects.get(is_current=True)
    assert current.verdict == Review.Verdict.REJECTED
    assert current.supersedes_id == first.pk
    assert page.locator("tr.history-row").count() == 2
    save_screenshot(page, "history_after_edit")
