import pytest
from django.urls import reverse

from reviews.models import QueueMembership
from tests.factories import AssignmentFactory, MembershipFactory, QueueFactory, ReviewFactory, ReviewItemFactory, UserFactory

pytestmark = pytest.mark.django_db

ASSIGNMENTS = reverse("admin:reviews_assignment_changelist")
REVIEWS = reverse("admin:reviews_review_changelist")


@pytest.fixture
def colleague(queue):
    user = UserFactory(username="colleague")
    MembershipFactory(queue=queue, user=user)
    return user


@pytest.fixture
def work(queue, reviewer, colleague):
    """One assignment and one review each for the reviewer, the colleague and a stranger in another queue."""
    elsewhere = ReviewItemFactory(queue=QueueFactory(name="Elsewhere"))
    rows = {}
    for name, user, item in [
        ("mine", reviewer, ReviewItemFactory(queue=queue)),
        ("colleague", colleague, ReviewItemFactory(queue=queue)),
        ("elsewhere", UserFactory(username="stranger"), elsewhere),
    ]:
        assignment = AssignmentFactory(item=item, reviewer=user, state="submitted")
        rows[name] = (assignment, ReviewFactory(item=item, reviewer=user, assignment=assignment))
    return rows


def listed(client, url) -> set[int]:
    return {row.pk for row in client.get(url).context["cl"].result_list}


def test_blind_queue_reviewer_sees_own_work(client, reviewer, work):
    client.force_login(reviewer)

    assert listed(client, ASSIGNMENTS) == {work["mine"][0].pk}
    assert listed(client, REVIEWS) == {work["mine"][1].pk}


def test_open_queue_reviewer_sees_colleague_work(client, reviewer, queue, work):
    queue.blind = False
    queue.save()
    client.force_login(reviewer)

    assert listed(client, ASSIGNMENTS) == {work["mine"][0].pk, work["colleague"][0].pk}
    assert listed(client, REVIEWS) == {work["mine"][1].pk, work["colleague"][1].pk}


def test_lead_sees_blind_queue_work(client, queue, work):
    lead = UserFactory(username="lead")
    MembershipFactory(queue=queue, user=lead, role=QueueMembership.Role.LEAD)
    client.force_login(lead)

    assert listed(client, REVIEWS) == {work["mine"][1].pk, work["colleague"][1].pk}


def test_manager_sees_managed_queue_work(client, manager, work):
    client.force_login(manager)

    assert listed(client, ASSIGNMENTS) == {work["mine"][0].pk, work["colleague"][0].pk}
    assert listed(client, REVIEWS) == {work["mine"][1].pk, work["colleague"][1].pk}


def test_superuser_sees_all_work(client, work):
    client.force_login(UserFactory(username="root", is_superuser=True))

    assert len(listed(client, REVIEWS)) == 3


@pytest.mark.parametrize("model", ["assignment", "review"])
def test_colleague_work_in_blind_queue_is_not_found(client, reviewer, work, model):
    client.force_login(reviewer)
    index = 0 if model == "assignment" else 1

    response = client.get(reverse(f"admin:reviews_{model}_change", args=[work["colleague"][index].pk]))

    assert response.status_code == 404


@pytest.mark.parametrize("view", ["change", "history", "delete"])
def test_outsider_review_pages_are_not_found(client, outsider, work, view):
    client.force_login(outsider)

    response = client.get(reverse(f"admin:reviews_review_{view}", args=[work["mine"][1].pk]))

    assert response.status_code == 404


def test_reviewer_views_own_review_read_only(client, reviewer, work):
    client.force_login(reviewer)
    review = work["mine"][1]

    page = client.get(reverse("admin:reviews_review_change", args=[review.pk]))
    post = client.post(reverse("admin:reviews_review_change", args=[review.pk]), {"verdict": "rejected"})

    assert page.context["title"] == "View review"
    assert post.status_code == 403
    review.refresh_from_db()
    assert review.verdict == "approved"


@pytest.mark.parametrize("rows", [1, 5])
def test_assignment_changelist_query_count_is_flat(client, manager, queue, rows, django_assert_num_queries):
    for _ in range(rows):
        AssignmentFactory(item=ReviewItemFactory(queue=queue), reviewer=UserFactory())
    client.force_login(manager)

    with django_assert_num_queries(7):
        response = client.get(ASSIGNMENTS)

    assert len(response.context["cl"].result_list) == rows


@pytest.mark.parametrize("rows", [1, 5])
def test_review_changelist_query_count_is_flat(client, manager, queue, rows, django_assert_num_queries):
    for _ in range(rows):
        ReviewFactory(item=ReviewItemFactory(queue=queue), reviewer=UserFactory())
    client.force_login(manager)

    with django_assert_num_queries(7):
        response = client.get(REVIEWS)

    assert len(response.context["cl"].result_list) == rows


@pytest.mark.parametrize("view", ["change", "history", "delete"])
def test_outsider_assignment_pages_are_not_found(client, outsider, work, view):
    client.force_login(outsider)

    response = client.get(reverse(f"admin:reviews_assignment_{view}", args=[work["mine"][0].pk]))

    assert response.status_code == 404
