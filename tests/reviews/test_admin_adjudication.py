import html

import pytest
from django.urls import reverse

from reviews.models import QueueMembership, Review, ReviewItem
from reviews.services import assignment_claim, review_submit
from tests.factories import CriterionFactory, MembershipFactory, QueueFactory, ReviewItemFactory, UserFactory

pytestmark = pytest.mark.django_db

XSS_PAYLOAD = "<script>alert(1)</script><img src=x onerror=alert(1)>"


@pytest.fixture
def lead(queue):
    user = UserFactory(username="lead")
    MembershipFactory(queue=queue, user=user, role=QueueMembership.Role.LEAD)
    return user


@pytest.fixture
def second_reviewer(queue):
    user = UserFactory(username="second")
    MembershipFactory(queue=queue, user=user)
    return user


@pytest.fixture
def disputed(queue, reviewer, second_reviewer):
    """An item that one reviewer approved and another rejected."""
    queue.reviews_per_item = 2
    queue.save()
    CriterionFactory(rubric=queue.rubric, key="correct", label="Factually correct")
    item = ReviewItemFactory(queue=queue)
    review_submit(
        assignment=assignment_claim(queue=queue, reviewer=reviewer), reviewer=reviewer,
        verdict="needs_fix", scores={"correct": False}, corrected_response=XSS_PAYLOAD,
    )
    review_submit(
        assignment=assignment_claim(queue=queue, reviewer=second_reviewer), reviewer=second_reviewer,
        verdict="rejected", scores={"correct": True}, reason="Recommends buying hardware without checking.",
    )
    item.refresh_from_db()
    assert item.state == ReviewItem.State.ADJUDICATION
    return item


def adjudicate_url(item) -> str:
    return reverse("admin:workspace_adjudicate", args=[item.pk])


def test_adjudication_list_shows_disputed_items(client, lead, disputed):
    client.force_login(lead)

    response = client.get(reverse("admin:workspace_adjudication"))

    assert [item.pk for item in response.context["items"]] == [disputed.pk]
    assert response.context["items"][0].review_count == 2


def test_adjudication_list_forbidden_to_reviewer(client, reviewer, disputed):
    client.force_login(reviewer)

    response = client.get(reverse("admin:workspace_adjudication"))

    assert response.status_code == 403


def test_adjudication_list_forbidden_to_outsider(client, outsider):
    client.force_login(outsider)

    response = client.get(reverse("admin:workspace_adjudication"))

    assert response.status_code == 403


def test_adjudication_list_empty_for_lead(client, lead):
    client.force_login(lead)

    response = client.get(reverse("admin:workspace_adjudication"))

    assert response.status_code == 200
    assert "No items await adjudication" in response.content.decode()


def test_adjudication_list_open_to_reviewer_leading_elsewhere(client, reviewer, disputed):
    elsewhere = QueueFactory()
    MembershipFactory(queue=elsewhere, user=reviewer, role=QueueMembership.Role.LEAD)
    client.force_login(reviewer)

    response = client.get(reverse("admin:workspace_adjudication"))

    assert response.status_code == 200
    assert list(response.context["items"]) == []


def test_adjudication_list_forbidden_after_demotion(client, lead, queue):
    client.force_login(lead)
    QueueMembership.objects.filter(queue=queue, user=lead).update(role=QueueMembership.Role.REVIEWER)

    response = client.get(reverse("admin:workspace_adjudication"))

    assert response.status_code == 403


def test_adjudication_page_not_found_for_reviewer(client, reviewer, disputed):
    client.force_login(reviewer)

    response = client.get(adjudicate_url(disputed))

    assert response.status_code == 404


@pytest.mark.parametrize("page", ["admin:index", "admin:workspace", "admin:workspace_history"])
def test_navigation_hides_adjudication_from_reviewer(client, reviewer, page):
    client.force_login(reviewer)

    content = client.get(reverse(page)).content.decode()

    assert reverse("admin:workspace_adjudication") not in content
    assert ">Adjudication</a>" not in content


@pytest.mark.parametrize("page", ["admin:index", "admin:workspace", "admin:workspace_history"])
def test_navigation_shows_adjudication_to_lead(client, lead, page):
    client.force_login(lead)

    content = client.get(reverse(page)).content.decode()

    assert f'<a href="{reverse("admin:workspace_adjudication")}">Adjudication</a>' in content


@pytest.mark.parametrize("username", ["manager", "root"])
def test_navigation_shows_adjudication_to_managers(client, manager, username):
    user = manager if username == "manager" else UserFactory(username="root", is_superuser=True)
    client.force_login(user)

    content = client.get(reverse("admin:index")).content.decode()

    assert f'<a href="{reverse("admin:workspace_adjudication")}">Adjudication</a>' in content
    assert f'<a class="button" href="{reverse("admin:workspace_adjudication")}">Adjudication</a>' in content


def test_adjudication_page_shows_reviews_side_by_side(client, lead, disputed):
    client.force_login(lead)

    response = client.get(adjudicate_url(disputed))

    text = html.unescape(response.content.decode())
    assert "reviewer: Needs fix" in text
    assert "second: Rejected" in text
    assert "Recommends buying hardware without checking." in text
    assert "Factually correct: fail" in text
    assert "Factually correct: pass" in text


def test_adjudication_page_escapes_rewrite(client, lead, disputed):
    client.force_login(lead)

    content = client.get(adjudicate_url(disputed)).content.decode()

    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in content
    assert "<script>alert(1)" not in content


def test_decision_settles_item(client, lead, disputed):
    client.force_login(lead)

    response = client.post(
        adjudicate_url(disputed),
        {"score_correct": "fail", "verdict": "rejected", "reason": "Wrong advice.", "time_spent_seconds": "30"},
    )

    assert response.url == reverse("admin:workspace_adjudication")
    disputed.refresh_from_db()
    assert disputed.state == ReviewItem.State.DONE
    assert disputed.final_review.kind == Review.Kind.ADJUDICATION
    assert disputed.final_review.reviewer == lead
    assert disputed.final_review.reason == "Wrong advice."


def test_invalid_decision_rerenders_with_message(client, lead, disputed):
    client.force_login(lead)

    response = client.post(adjudicate_url(disputed), {"score_correct": "fail", "verdict": "rejected", "reason": ""})

    assert response.status_code == 200
    assert response.context["form"].errors["reason"] == [
        "A rejected verdict requires a reason; say what is wrong with the reply."
    ]
    disputed.refresh_from_db()
    assert disputed.state == ReviewItem.State.ADJUDICATION


def test_adjudication_page_not_found_for_reviewer(client, reviewer, disputed):
    client.force_login(reviewer)

    page = client.get(adjudicate_url(disputed))
    decision = client.post(adjudicate_url(disputed), {"score_correct": "pass", "verdict": "approved"})

    assert page.status_code == 404
    assert decision.status_code == 404
    disputed.refresh_from_db()
    assert disputed.state == ReviewItem.State.ADJUDICATION


def test_settled_item_redirects_to_list(client, lead, disputed):
    client.force_login(lead)
    client.post(adjudicate_url(disputed), {"score_correct": "pass", "verdict": "approved"})

    response = client.get(adjudicate_url(disputed), follow=True)

    assert response.redirect_chain[-1][0] == reverse("admin:workspace_adjudication")
    assert [str(m) for m in response.context["messages"]][-1] == f"Item {disputed} is done, not awaiting adjudication."
