"""Every list endpoint pages with cursors and rejects invalid query parameters with 400."""

import uuid

import django_filters
import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import serializers, viewsets
from rest_framework.test import APIRequestFactory, force_authenticate

from exports.models import ExportJob, WebhookDelivery
from exports.webhooks.endpoints import webhook_endpoint_create
from reviews.models import Queue, QueueMembership
from tests.api_clients import token_client
from tests.factories import (
    AssignmentFactory,
    ManagerFactory,
    MembershipFactory,
    QueueFactory,
    ReviewFactory,
    ReviewItemFactory,
    RubricFactory,
)

pytestmark = pytest.mark.django_db

HOOK_URL = "http://127.0.0.1:9/hook"


def list_route_names(patterns=None, prefix: str = "") -> list[str]:
    """Return the URL names of every list route under /api/v1/, read from the URL conf."""
    names = []
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            names += list_route_names(pattern.url_patterns, route)
        elif isinstance(pattern, URLPattern) and route.startswith("api/v1/") and (pattern.name or "").endswith("-list"):
            names.append(pattern.name)
    return sorted(set(names))


@pytest.fixture
def manager_api(manager):
    return token_client(manager)


@pytest.fixture
def two_of_each(manager, queue):
    """Two rows behind every list the manager reads."""
    second_queue = QueueFactory(blind=False)
    MembershipFactory(queue=second_queue, user=manager, role=QueueMembership.Role.MANAGER)
    items = ReviewItemFactory.create_batch(2, queue=queue)
    for item in items:
        AssignmentFactory(item=item, reviewer=manager)
        ReviewFactory(item=item, reviewer=manager)
    ExportJob.objects.create(requester=manager, filters={"queues": [queue.slug]})
    ExportJob.objects.create(requester=manager, filters={"queues": [queue.slug]}, state=ExportJob.State.FAILED)
    webhook_endpoint_create(actor=manager, url=HOOK_URL, events=["export.succeeded"])
    webhook_endpoint_create(actor=manager, url=HOOK_URL + "2", events=["export.failed"], is_active=False)


def test_list_routes_are_found():
    names = list_route_names()

    for expected in ("item-list", "queue-list", "rubric-list", "assignment-list", "export-list", "webhook-list"):
        assert expected in names


@pytest.mark.parametrize("name", list_route_names())
def test_list_route_pages_with_cursor(name, manager_api, two_of_each):
    response = manager_api.get(reverse(name), {"page_size": 1})

    assert response.status_code == 200
    body = response.json()
    assert "count" not in body
    assert set(body) == {"next", "previous", "results"}
    assert body["previous"] is None
    assert "cursor=" in body["next"]


@pytest.mark.parametrize("name", list_route_names())
def test_list_route_next_page_has_previous(name, manager_api, two_of_each):
    first = manager_api.get(reverse(name), {"page_size": 1}).json()

    second = manager_api.get(first["next"]).json()

    assert len(second["results"]) == 1
    assert second["results"][0] != first["results"][0]
    assert "cursor=" in second["previous"]


@pytest.mark.parametrize("name", list_route_names())
@pytest.mark.parametrize(
    ("parameter", "value", "message"),
    [
        ("cursor", "not-a-cursor", "Invalid cursor; use the next or previous link of an earlier page as it is."),
        # A well-formed cursor whose position is not a time.
        ("cursor", "cD1ub3QtYS10aW1l", "Invalid cursor; use the next or previous link of an earlier page as it is."),
        ("page_size", "0", "Enter a whole number from 1 to 500."),
        ("page_size", "501", "Enter a whole number from 1 to 500."),
        ("page_size", "ten", "Enter a whole number from 1 to 500."),
    ],
)
def test_list_route_rejects_bad_paging(name, parameter, value, message, manager_api):
    response = manager_api.get(reverse(name), {parameter: value})

    assert response.status_code == 400
    assert response.json() == {"code": "invalid", "message": f"{parameter}: {message}", "errors": {parameter: [message]}}


@pytest.mark.parametrize(
    ("path", "parameter", "value"),
    [
        ("/api/v1/items/", "state", "finished"),
        ("/api/v1/items/", "created_after", "yesterday"),
        # Valid ISO 8601, but before the year 1 once converted to UTC.
        ("/api/v1/items/", "created_before", "0001-01-01T00:00:00+05:00"),
        ("/api/v1/queues/", "is_active", "maybe"),
        ("/api/v1/queues/", "blind", "yes"),
        ("/api/v1/rubrics/", "version", "0"),
        ("/api/v1/rubrics/", "version", "1.5"),
        ("/api/v1/assignments/", "state", "done"),
        ("/api/v1/assignments/", "queue", "abc"),
        ("/api/v1/assignments/", "queue", str(2**70)),
        ("/api/v1/exports/", "state", "done"),
        ("/api/v1/exports/", "kind", "everything"),
        ("/api/v1/exports/", "format", "csv"),
        ("/api/v1/webhooks/", "is_active", "2"),
    ],
)
def test_invalid_filter_value_names_parameter(path, parameter, value, manager_api):
    response = manager_api.get(path, {parameter: value})

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert body["message"].startswith(f"{parameter}: ")
    assert list(body["errors"]) == [parameter]


def test_queue_filters_match_admin(manager_api, manager, queue):
    open_queue = QueueFactory(blind=False, is_active=False)
    MembershipFactory(queue=open_queue, user=manager, role=QueueMembership.Role.MANAGER)

    blind = manager_api.get("/api/v1/queues/", {"blind": "false"}).json()["results"]
    paused = manager_api.get("/api/v1/queues/", {"is_active": "0"}).json()["results"]
    active = manager_api.get("/api/v1/queues/", {"is_active": "true"}).json()["results"]

    assert [row["id"] for row in blind] == [open_queue.pk]
    assert [row["id"] for row in paused] == [open_queue.pk]
    assert [row["id"] for row in active] == [queue.pk]


def test_export_filters_match_admin(manager_api, manager, queue):
    ExportJob.objects.create(requester=manager, filters={"queues": [queue.slug]})
    failed = ExportJob.objects.create(
        requester=manager, filters={"queues": [queue.slug]}, state=ExportJob.State.FAILED, kind="sft", format="openai"
    )

    for parameter, value in (("state", "failed"), ("kind", "sft"), ("format", "openai")):
        rows = manager_api.get("/api/v1/exports/", {parameter: value}).json()["results"]
        assert [row["id"] for row in rows] == [failed.pk], parameter


def test_rubric_version_filter(manager_api):
    RubricFactory(slug="tone", version=1)
    second = RubricFactory(slug="tone", version=2)

    rows = manager_api.get("/api/v1/rubrics/", {"slug": "tone", "version": 2}).json()["results"]

    assert [row["id"] for row in rows] == [second.pk]


def test_webhook_active_filter(manager_api, manager):
    webhook_endpoint_create(actor=manager, url=HOOK_URL, events=["export.succeeded"])
    paused = webhook_endpoint_create(actor=manager, url=HOOK_URL, events=["export.failed"], is_active=False)

    rows = manager_api.get("/api/v1/webhooks/", {"is_active": "false"}).json()["results"]

    assert [row["id"] for row in rows] == [paused.pk]


def test_delivery_filters_match_admin(manager_api, manager):
    endpoint = webhook_endpoint_create(actor=manager, url=HOOK_URL, events=["export.succeeded", "export.failed"])
    for event, succeeded in (("export.succeeded", True), ("export.failed", False)):
        WebhookDelivery.objects.create(
            endpoint=endpoint, event_id=uuid.uuid4(), event=event, payload={}, attempt=1, succeeded=succeeded
        )
    url = f"/api/v1/webhooks/{endpoint.pk}/deliveries/"

    failed = manager_api.get(url, {"succeeded": "false"}).json()["results"]
    by_event = manager_api.get(url, {"event": "export.succeeded"}).json()["results"]
    invalid = manager_api.get(url, {"event": "export.started"})

    assert [row["event"] for row in failed] == ["export.failed"]
    assert [row["event"] for row in by_event] == ["export.succeeded"]
    assert invalid.status_code == 400
    assert list(invalid.json()["errors"]) == ["event"]


def test_delivery_list_rejects_unknown_parameter(manager_api, manager):
    endpoint = webhook_endpoint_create(actor=manager, url=HOOK_URL, events=["export.failed"])

    response = manager_api.get(f"/api/v1/webhooks/{endpoint.pk}/deliveries/", {"sucess": "false"})

    assert response.status_code == 400
    assert response.json()["errors"] == {
        "sucess": ["Unknown query parameter; this list accepts succeeded, event, cursor, page_size, format. "
                   "Check the spelling."]
    }


def test_deliveries_of_other_managers_endpoint_is_404(manager_api):
    other = webhook_endpoint_create(
        actor=ManagerFactory(username="other-manager"), url=HOOK_URL, events=["export.failed"]
    )

    response = manager_api.get(f"/api/v1/webhooks/{other.pk}/deliveries/")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_item_time_filter_takes_any_offset(manager_api, queue):
    """PostgreSQL rejects offsets beyond 15:59, so the filter converts every time to UTC first."""
    ReviewItemFactory(queue=queue)

    response = manager_api.get("/api/v1/items/", {"created_after": "2001-08-03T09:55:25+20:10"})

    assert response.status_code == 200
    assert len(response.json()["results"]) == 1


def test_every_invalid_filter_is_listed(manager_api):
    response = manager_api.get("/api/v1/items/", {"state": "finished", "created_after": "yesterday"})

    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"state", "created_after"}
    assert response.json()["message"].endswith(" (1 more error is listed in errors).")


@pytest.mark.parametrize("name", list_route_names())
def test_unknown_query_parameter_is_rejected(name, manager_api, two_of_each):
    response = manager_api.get(reverse(name), {"verdcit": "approved"})

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert list(body["errors"]) == ["verdcit"]
    assert body["message"].startswith("verdcit: Unknown query parameter; this list accepts ")
    assert "cursor, page_size" in body["errors"]["verdcit"][0]


@pytest.mark.parametrize(
    ("path", "accepted"),
    [
        ("/api/v1/items/", "queue, state, source, external_id, model, created_after, created_before, cursor, "
                           "page_size, format"),
        # The export list reads format as a filter, so it is not a renderer choice there.
        ("/api/v1/exports/", "state, kind, format, cursor, page_size"),
        ("/api/v1/reviews/", "item, is_current, cursor, page_size, format"),
    ],
)
def test_unknown_query_parameter_lists_accepted(path, accepted, manager_api):
    response = manager_api.get(path, {"verdcit": "approved"})

    assert response.json()["errors"] == {
        "verdcit": [f"Unknown query parameter; this list accepts {accepted}. Check the spelling."]
    }


def test_unknown_and_invalid_parameters_listed(manager_api):
    response = manager_api.get("/api/v1/queues/", {"activ": "true", "blind": "yes", "pagesize": "5"})

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["activ", "pagesize", "blind"]


def test_format_parameter_is_accepted(manager_api, queue):
    ReviewItemFactory(queue=queue)

    response = manager_api.get("/api/v1/items/", {"format": "json", "page_size": 1})

    assert response.status_code == 200
    assert len(response.json()["results"]) == 1


def test_detail_route_ignores_unknown_parameter(manager_api, queue):
    item = ReviewItemFactory(queue=queue)

    response = manager_api.get(f"/api/v1/items/{item.pk}/", {"verdcit": "approved"})

    assert response.status_code == 200


class QueueSlugSerializer(serializers.ModelSerializer):
    class Meta:
        model = Queue
        fields = ["id", "slug"]


class DocumentedQueueFilter(django_filters.FilterSet):
    lease = django_filters.RangeFilter(field_name="lease_minutes")

    class Meta:
        model = Queue
        fields = ["slug"]


class SearchOptionsSerializer(serializers.Serializer):
    exact = serializers.BooleanField(required=False, help_text="Match the whole slug.")


@extend_schema_view(list=extend_schema(parameters=[
    OpenApiParameter("search", str, description="Part of the slug."), SearchOptionsSerializer,
]))
class DocumentedQueueViewSet(viewsets.ReadOnlyModelViewSet):
    """A list whose schema documents a query parameter that is not a filter."""

    queryset = Queue.objects.all()
    serializer_class = QueueSlugSerializer
    filterset_class = DocumentedQueueFilter

    def get_queryset(self):
        return Queue.objects.filter(slug__contains=self.request.query_params.get("search", ""))


def documented_list(manager, query: dict):
    request = APIRequestFactory().get("/api/v1/documented/", query)
    force_authenticate(request, user=manager)
    return DocumentedQueueViewSet.as_view({"get": "list"})(request)


def test_documented_query_parameter_is_accepted(manager, queue):
    response = documented_list(manager, {"search": queue.slug[1:]})

    assert response.status_code == 200
    assert [row["slug"] for row in response.data["results"]] == [queue.slug]


def test_range_filter_parameters_are_accepted(manager, queue):
    response = documented_list(manager, {"lease_min": queue.lease_minutes, "lease_max": queue.lease_minutes})

    assert response.status_code == 200
    assert [row["slug"] for row in response.data["results"]] == [queue.slug]


def test_documented_query_parameter_is_listed(manager, queue):
    response = documented_list(manager, {"serach": "x"})

    assert response.status_code == 400
    assert response.data["errors"] == {
        "serach": ["Unknown query parameter; this list accepts slug, lease_min, lease_max, cursor, page_size, "
                   "format, search, exact. Check the spelling."]
    }
