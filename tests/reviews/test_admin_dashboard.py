import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from reviews.admin.dashboard import dashboard_build
from reviews.models import QueueMembership, Review, ReviewItem
from reviews.services import assignment_claim, review_revise, review_submit
from rubrics.models import Criterion
from tests.factories import (
    CriterionFactory,
    ManagerFactory,
    MembershipFactory,
    QueueFactory,
    ReviewFactory,
    ReviewItemFactory,
    UserFactory,
    items_in_every_state,
)

pytestmark = pytest.mark.django_db

INDEX = reverse("admin:index")
# Queries of dashboard_build: the user's and their groups' permissions, queues, their criteria,
# item states, verdicts, medians, agreement and throughput.
DASHBOARD_QUERIES = 9


def _managed_queue(manager, **fields):
    queue = QueueFactory(**fields)
    MembershipFactory(queue=queue, user=manager, role=QueueMembership.Role.MANAGER)
    return queue


def _segments(bar) -> dict[str, int]:
    return {segment.key: segment.count for segment in bar.segments}


def _stats(manager, queue):
    return next(entry for entry in dashboard_build(user=manager)["queues"] if entry.queue == queue)


def test_reviewer_index_has_no_dashboard(client, reviewer):
    client.force_login(reviewer)

    response = client.get(INDEX)

    assert "dashboard" not in response.context
    assert 'id="dashboard"' not in response.content.decode()
    assert "Start reviewing" in response.content.decode()


def test_manager_index_shows_dashboard(client, manager, queue):
    client.force_login(manager)

    response = client.get(INDEX)

    content = response.content.decode()
    dashboard = content[content.index('id="dashboard"'):content.index('id="workspace-entry"')]
    assert "<svg" in dashboard
    assert "<script" not in dashboard
    assert queue.name in dashboard
    assert "Start reviewing" in content


def test_dashboard_lists_only_managed_queues(client, manager, queue):
    other = QueueFactory(name="Billing replies")
    MembershipFactory(queue=other, user=manager, role=QueueMembership.Role.REVIEWER)
    client.force_login(manager)

    response = client.get(INDEX)

    assert [entry.queue for entry in response.context["dashboard"]["queues"]] == [queue]
    assert "Billing replies" not in response.content.decode()


def test_dashboard_superuser_sees_every_queue(db):
    first, second = QueueFactory(), QueueFactory()
    admin = UserFactory(username="root", is_superuser=True)

    queues = [entry.queue for entry in dashboard_build(user=admin)["queues"]]

    assert set(queues) == {first, second}


def test_dashboard_without_queues_says_so(client):
    lonely = ManagerFactory(username="lonely")
    client.force_login(lonely)

    response = client.get(INDEX)

    assert response.context["dashboard"]["queues"] == []
    assert "You manage no queue yet" in response.content.decode()


def test_dashboard_escapes_queue_name(client, manager):
    _managed_queue(manager, name="<img src=x onerror=alert(1)>")
    client.force_login(manager)

    content = client.get(INDEX).content.decode()

    assert "<img src=x" not in content
    assert "&lt;img src=x onerror=alert(1)&gt;" in content


def test_progress_counts_items_per_state(manager, queue):
    items_in_every_state(queue)
    ReviewItemFactory(queue=QueueFactory(), state=ReviewItem.State.PENDING)

    progress = _stats(manager, queue).progress

    assert _segments(progress) == {"finished": 6, "adjudication": 1, "in_review": 2, "pending": 3}
    assert progress.total == 12
    assert [segment.offset for segment in progress.segments] == pytest.approx([0, 6 / 12, 7 / 12, 9 / 12])


def test_progress_labels_say_what_they_count(manager, queue):
    progress = _stats(manager, queue).progress

    assert [segment.label for segment in progress.segments] == [
        "Finished", "Awaiting adjudication", "In review", "Pending"
    ]


def test_progress_finished_notes_adjudicated_items(manager, queue):
    items_in_every_state(queue)

    segments = {segment.key: segment for segment in _stats(manager, queue).progress.segments}

    assert segments["finished"].detail == "2 adjudicated"
    assert segments["adjudication"].detail == ""


def test_progress_legend_on_page(client, manager, queue):
    items_in_every_state(queue)
    client.force_login(manager)

    content = client.get(INDEX).content.decode()

    progress = content[content.index('id="dashboard-progress"'):content.index('id="dashboard-throughput"')]
    assert "<title>Finished: 6 (50%), 2 adjudicated</title>" in progress
    assert "<title>Awaiting adjudication: 1 (8%)</title>" in progress
    assert 'Finished <strong>6</strong> <small>50%</small> <small class="segment-detail">2 adjudicated</small>' in progress
    assert ">Done<" not in progress
    assert "Done <strong>" not in progress


def test_progress_of_empty_queue_is_zero(manager, queue):
    progress = _stats(manager, queue).progress

    assert progress.total == 0
    assert {segment.share for segment in progress.segments} == {0.0}


def test_verdict_mix_counts_reviewer_verdicts(manager, queue):
    item = ReviewItemFactory(queue=queue)
    ReviewFactory.create_batch(2, item=item, verdict=Review.Verdict.APPROVED)
    ReviewFactory(item=item, verdict=Review.Verdict.REJECTED, reason="Wrong fact.")
    ReviewFactory(item=item, verdict=Review.Verdict.NEEDS_FIX, corrected_response="Check the cable.",
                  kind=Review.Kind.ADJUDICATION)

    verdicts = _stats(manager, queue).verdicts

    assert _segments(verdicts) == {"approved": 2, "needs_fix": 0, "rejected": 1}


def test_replaced_revisions_are_not_counted(manager, queue):
    item = ReviewItemFactory(queue=queue)
    ana = UserFactory(username="ana")
    ReviewFactory(item=item, reviewer=ana, verdict=Review.Verdict.REJECTED, reason="Wrong fact.", is_current=False,
                  time_spent_seconds=500)
    ReviewFactory(item=item, reviewer=ana, verdict=Review.Verdict.APPROVED, time_spent_seconds=30)

    entry = _stats(manager, queue)

    assert _segments(entry.verdicts) == {"approved": 1, "needs_fix": 0, "rejected": 0}
    assert entry.median_seconds == 30


def test_throughput_counts_revised_review_once(manager, queue, reviewer):
    ReviewItemFactory.create_batch(6, queue=queue)
    reviews = []
    for _ in range(6):
        assignment = assignment_claim(queue=queue, reviewer=reviewer)
        reviews.append(review_submit(assignment=assignment, reviewer=reviewer, verdict="approved"))
    for review in reviews[:2]:
        review_revise(review=review, reviewer=reviewer, verdict="rejected", reason="Wrong fact.")

    throughput = dashboard_build(user=manager)["reviewers"]

    assert [entry.username for entry in throughput] == ["reviewer"]
    assert throughput[0].total == 6
    assert throughput[0].days[-1].bar.value == 6


def test_throughput_counts_revision_on_its_day(manager, queue):
    now = timezone.now()
    ana = UserFactory(username="ana")
    first = ReviewFactory(item=ReviewItemFactory(queue=queue), reviewer=ana, is_current=False,
                          submitted_at=now - datetime.timedelta(days=2))
    ReviewFactory(item=first.item, reviewer=ana, supersedes=first, verdict=Review.Verdict.REJECTED,
                  reason="Wrong fact.", submitted_at=now)

    days = dashboard_build(user=manager, now=now)["reviewers"][0].days

    assert [column.bar.value for column in days][-3:] == [0, 0, 1]


def test_throughput_counts_rereviewed_item_again(manager, queue):
    item = ReviewItemFactory(queue=queue)
    ana = UserFactory(username="ana")
    ReviewFactory(item=item, reviewer=ana, is_current=False)
    ReviewFactory(item=item, reviewer=ana, verdict=Review.Verdict.REJECTED, reason="Wrong fact.")

    assert dashboard_build(user=manager)["reviewers"][0].total == 2


def test_median_time_even_count(manager, queue):
    item = ReviewItemFactory(queue=queue)
    for seconds in (40, 10, 30, 20, 0):
        ReviewFactory(item=item, time_spent_seconds=seconds)

    # Timed reviews 10, 20, 30, 40 (the untimed 0 is left out): median (20 + 30) / 2 = 25.
    assert _stats(manager, queue).median_seconds == 25


def test_median_time_odd_count_per_queue(manager, queue):
    other = _managed_queue(manager)
    for seconds in (90, 5, 12):
        ReviewFactory(item=ReviewItemFactory(queue=queue), time_spent_seconds=seconds)
    ReviewFactory(item=ReviewItemFactory(queue=other), time_spent_seconds=300)

    assert _stats(manager, queue).median_seconds == 12
    assert _stats(manager, other).median_seconds == 300


def test_median_time_without_timed_reviews_is_none(manager, queue):
    ReviewFactory(item=ReviewItemFactory(queue=queue), time_spent_seconds=0)

    entry = _stats(manager, queue)

    assert entry.median_seconds is None
    assert entry.median_bar is None


def test_throughput_counts_reviews_per_reviewer_per_day(manager, queue):
    now = timezone.now()
    ana, ben = UserFactory(username="ana"), UserFactory(username="ben")
    for reviewer, days_ago in [(ana, 0), (ana, 0), (ana, 3), (ben, 13), (ben, 14), (ben, 20)]:
        ReviewFactory(item=ReviewItemFactory(queue=queue), reviewer=reviewer,
                      submitted_at=now - datetime.timedelta(days=days_ago))

    dashboard = dashboard_build(user=manager, now=now)

    assert len(dashboard["days"]) == 14
    assert dashboard["days"][-1] == timezone.localdate(now)
    by_name = {reviewer.username: reviewer for reviewer in dashboard["reviewers"]}
    assert [reviewer.username for reviewer in dashboard["reviewers"]] == ["ana", "ben"]
    assert by_name["ana"].total == 3
    assert by_name["ben"].total == 1
    assert [column.bar.value for column in by_name["ana"].days][-4:] == [1, 0, 0, 2]
    assert by_name["ben"].days[0].bar.value == 1
    assert by_name["ana"].days[-1].bar.share == 1.0


def _overlap_queue(manager):
    queue = _managed_queue(manager, reviews_per_item=2)
    CriterionFactory(rubric=queue.rubric, key="correct", label="Correct", kind=Criterion.Kind.PASS_FAIL)
    CriterionFactory(rubric=queue.rubric, key="tone", label="Tone", kind=Criterion.Kind.SCALE,
                     min_value=1, max_value=5, position=1)
    return queue


def _judge(item, reviewer, verdict, *, correct, tone, rewrite=""):
    extra = {"reason": "Wrong."} if verdict == Review.Verdict.REJECTED else {}
    ReviewFactory(item=item, reviewer=reviewer, verdict=verdict, scores={"correct": correct, "tone": tone},
                  corrected_response=rewrite, **extra)


def test_agreement_two_reviewers(manager):
    queue = _overlap_queue(manager)
    ana, ben = UserFactory(username="ana"), UserFactory(username="ben")
    approved, needs_fix, rejected = Review.Verdict.APPROVED, Review.Verdict.NEEDS_FIX, Review.Verdict.REJECTED
    # item  ana (verdict, correct, tone)        ben
    # 1     approved, True, 5                   approved, True, 4
    # 2     approved, True, 4                   needs_fix, False, 2
    # 3     rejected, False, 1                  rejected, False, 1
    # 4     needs_fix, False, 3 "reset the router now"   needs_fix, True, 3 "reset the modem now"
    table = [
        ((approved, True, 5, ""), (approved, True, 4, "")),
        ((approved, True, 4, ""), (needs_fix, False, 2, "Unplug it.")),
        ((rejected, False, 1, ""), (rejected, False, 1, "")),
        ((needs_fix, False, 3, "reset the router now"), (needs_fix, True, 3, "reset the modem now")),
    ]
    for ana_review, ben_review in table:
        item = ReviewItemFactory(queue=queue)
        for reviewer, (verdict, correct, tone, rewrite) in ((ana, ana_review), (ben, ben_review)):
            _judge(item, reviewer, verdict, correct=correct, tone=tone, rewrite=rewrite)

    entry = _stats(manager, queue)

    rows = {row.label: row for row in entry.agreement}
    assert list(rows) == ["Verdict", "Correct", "Tone"]
    # Verdict: ana approved 2, needs_fix 1, rejected 1; ben approved 1, needs_fix 2, rejected 1.
    # p_o = 3/4, p_e = (2*1 + 1*2 + 1*1) / 16 = 5/16, kappa = (12/16 - 5/16) / (11/16) = 7/11.
    assert rows["Verdict"].kappa == pytest.approx(7 / 11)
    # alpha: n = 8, one unequal unit -> D_o = 2/8; counts 3, 3, 2 -> D_e = (64 - 22) / 56 = 3/4; alpha = 2/3.
    assert rows["Verdict"].alpha == pytest.approx(2 / 3)
    assert rows["Verdict"].units == 4
    # Correct: ana T,T,F,F; ben T,F,F,T. p_o = 1/2, p_e = (2*2 + 2*2) / 16 = 1/2, kappa = 0.
    assert rows["Correct"].kappa == pytest.approx(0.0)
    assert rows["Correct"].level == "nominal"
    # Tone (interval): units (5,4), (4,2), (1,1), (3,3). D_o = (2*1 + 2*4) / 8 = 10/8.
    # Pooled 5,4,4,2,1,1,3,3: sum 23, sum of squares 81; pair sum 2*8*81 - 2*23^2 = 1296 - 1058 = 238.
    # D_e = 238 / 56; alpha = 1 - (10/8) / (238/56) = 1 - 70/238 = 168/238.
    assert rows["Tone"].alpha == pytest.approx(168 / 238)
    assert rows["Tone"].level == "interval"
    # Rewrites: item 4 only; "reset the router now" vs "reset the modem now" = 2*3/8.
    assert entry.rewrite_agreement == pytest.approx(0.75)
    assert entry.rewrite_pairs == 1


def test_agreement_three_reviewers_has_no_kappa(manager):
    queue = _overlap_queue(manager)
    reviewers = [UserFactory(username=name) for name in ("ana", "ben", "cy")]
    for first, second in [(0, 1), (1, 2), (0, 2)]:
        item = ReviewItemFactory(queue=queue)
        _judge(item, reviewers[first], Review.Verdict.APPROVED, correct=True, tone=4)
        _judge(item, reviewers[second], Review.Verdict.REJECTED, correct=False, tone=2)

    rows = {row.label: row for row in _stats(manager, queue).agreement}

    assert rows["Verdict"].kappa is None
    # Every unit disagrees: D_o = 6/6 = 1, D_e = (36 - 9 - 9) / 30 = 3/5, alpha = 1 - 5/3 = -2/3.
    assert rows["Verdict"].alpha == pytest.approx(-2 / 3)
    assert rows["Verdict"].alpha_bar.share == 0.0


def test_agreement_skipped_for_single_review_queue(manager, queue):
    ReviewFactory(item=ReviewItemFactory(queue=queue))

    entry = _stats(manager, queue)

    assert entry.agreement == []
    assert entry.rewrite_agreement is None


def test_agreement_shown_on_page(client, manager):
    queue = _overlap_queue(manager)
    ana, ben = UserFactory(username="ana"), UserFactory(username="ben")
    for verdicts in [("approved", "approved"), ("approved", "rejected"), ("rejected", "rejected")]:
        item = ReviewItemFactory(queue=queue)
        _judge(item, ana, verdicts[0], correct=True, tone=3)
        _judge(item, ben, verdicts[1], correct=True, tone=3)
    client.force_login(manager)

    content = client.get(INDEX).content.decode()

    # Verdict kappa: p_o = 2/3, p_e = (2*1 + 1*2) / 9 = 4/9, kappa = (6/9 - 4/9) / (5/9) = 0.4.
    assert '<td class="number kappa">0.400</td>' in content


def _populate(manager, *, queues: int, items: int):
    reviewers = [UserFactory() for _ in range(3)]
    for _ in range(queues):
        queue = _overlap_queue(manager)
        for _ in range(items):
            item = ReviewItemFactory(queue=queue, state=ReviewItem.State.REVIEWED)
            for reviewer in reviewers[:2]:
                _judge(item, reviewer, Review.Verdict.NEEDS_FIX, correct=True, tone=3, rewrite="Try again.")


def test_dashboard_query_count_is_pinned(manager, django_assert_num_queries):
    _populate(manager, queues=1, items=1)

    with django_assert_num_queries(DASHBOARD_QUERIES):
        dashboard_build(user=manager)


def test_dashboard_query_count_ignores_data_size(manager, django_assert_num_queries):
    _populate(manager, queues=4, items=6)

    with django_assert_num_queries(DASHBOARD_QUERIES):
        dashboard_build(user=manager)


def test_index_query_count_ignores_data_size(client, manager):
    client.force_login(manager)
    _populate(manager, queues=1, items=1)
    with CaptureQueriesContext(connection) as small:
        client.get(INDEX)

    _populate(manager, queues=3, items=5)
    with CaptureQueriesContext(connection) as large:
        client.get(INDEX)

    assert len(large) == len(small)


def test_dashboard_never_counts_all_items(manager):
    _populate(manager, queues=2, items=2)

    with CaptureQueriesContext(connection) as queries:
        dashboard_build(user=manager)

    item_counts = [query["sql"] for query in queries if "COUNT(" in query["sql"] and "reviews_reviewitem" in query["sql"]]
    assert item_counts
    assert all("GROUP BY" in sql or "OVER" in sql for sql in item_counts)
