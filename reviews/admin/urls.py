"""The reviewer workspace's URLs, served inside the admin site under ``workspace/``."""

from django.urls import path

from .adjudication import AdjudicationListView, AdjudicationView
from .history import HistoryView, ReviewEditView
from .workspace import AssignmentView, ClaimView, QueueListView, ReleaseView, SkipView


def workspace_urlpatterns(site) -> list:
    """Return the workspace routes, each wrapped in ``site.admin_view`` (staff login and CSRF)."""

    def route(view_class):
        return site.admin_view(view_class.as_view(site=site))

    return [
        path("workspace/", route(QueueListView), name="workspace"),
        path("workspace/queues/<int:queue_id>/claim/", route(ClaimView), name="workspace_claim"),
        path("workspace/assignments/<int:assignment_id>/", route(AssignmentView), name="workspace_assignment"),
        path(
            "workspace/assignments/<int:assignment_id>/release/", route(ReleaseView), name="workspace_release"
        ),
        path("workspace/assignments/<int:assignment_id>/skip/", route(SkipView), name="workspace_skip"),
        path("workspace/history/", route(HistoryView), name="workspace_history"),
        path("workspace/history/<int:review_id>/edit/", route(ReviewEditView), name="workspace_review_edit"),
        path("workspace/adjudication/", route(AdjudicationListView), name="workspace_adjudication"),
        path(
            "workspace/adjudication/<int:item_id>/", route(AdjudicationView), name="workspace_adjudicate"
        ),
    ]
