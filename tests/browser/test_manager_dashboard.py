import pytest

from reviews.models import QueueMembership, Review, ReviewItem
from rubrics.models import Criterion
from tests.browser.conftest import sign_in
from tests.factories import CriterionFactory, MembershipFactory, ReviewFactory, ReviewItemFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def overlap_queue(queue):
    queue.reviews_per_item = 2
    queue.save()
    CriterionFactory(rubric=queue.rubric, key="accurate", label="Accurate", kind=Criterion.Kind.PASS_FAIL)
    ana, ben = UserFactory(username="ana"), UserFactory(username="ben")
    for user in (ana, ben):
        MembershipFactory(queue=queue, user=user, role=QueueMembership.Role.REVIEWER)
    # Verdicts (ana, ben): agree, disagree, agree -> kappa 0.4 (see tests/reviews/test_admin_dashboard.py).
    for verdicts in [("approved", "approved"), ("approved", "rejected"), ("rejected", "rejected")]:
        item = ReviewItemFactory(queue=queue, state=ReviewItem.State.REVIEWED)
        for user, verdict in zip((ana, ben), verdicts):
            reason = "Wrong fact." if verdict == Review.Verdict.REJECTED else ""
            ReviewFactory(item=item, reviewer=user, verdict=verdict, reason=reason, time_spent_seconds=60,
                          scores={"accurate": verdict == "approved"})
    ReviewItemFactory.create_batch(2, queue=queue, state=ReviewItem.State.PENDING)
    return queue


def test_manager_dashboard_charts(page, live_server, manager, overlap_queue):
    sign_in(page, live_server, "manager")

    dashboard = page.locator("#dashboard")
    row = dashboard.locator(f'#dashboard-progress tr[data-queue="{overlap_queue.pk}"]')
    assert row.locator(".progress .legend-pending strong").inner_text() == "2"
    assert row.locator(".progress .legend-finished strong").inner_text() == "3"
    assert row.locator(".progress .legend-finished .segment-detail").inner_text() == "0 adjudicated"
    assert row.locator(".verdicts .legend-approved strong").inner_text() == "3"
    assert row.locator(".median-seconds").inner_text() == "60 s"
    assert row.locator(".progress svg rect").count() == 3  # the track, finished and pending
    assert dashboard.locator('#dashboard-throughput tr[data-reviewer="ana"] td.number').inner_text() == "3"
    assert dashboard.locator(".agreement-table tr.criterion .kappa").first.inner_text() == "0.400"
    assert page.locator("#workspace-entry").is_visible()
