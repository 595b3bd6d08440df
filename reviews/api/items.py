"""``/api/v1/items/``: ingesting AI replies, and reading the items of your queues.

``POST`` takes one item object or a list of at most ``MAX_ITEMS`` items and
is all-or-nothing: any invalid item gets a 400 response that names its index
and field, and nothing is written. Each item names its queue by slug, and the user
must manage that queue (else 404). An item without a queue goes to the first
queue the user manages whose routing rules and sampling rate take it; when none
does, it is stored without a queue and counted as ``unqueued``. Items already stored under the same
``source`` + ``external_id`` count as duplicates, so a repeated request
creates nothing. ``GET`` lists only the items of queues the user belongs to,
and for an admin every item, unqueued ones included; any other item returns 404.
"""

import logging
from collections import defaultdict

import django_filters
from django.db import transaction
from django.http import Http404
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import JSONParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from bookbag.api.filters import DateTimeFilter
from bookbag.api.routers import router
from bookbag.api.scoping import ScopedObjectMixin
from bookbag.api.throttling import INGEST
from bookbag.errors import NotFound
from bookbag.tokens.models import Scope
from bookbag.tokens.permissions import HasScope

from ..access import queues_managed
from ..ingest.errors import RowError, field_join
from ..ingest.payload import PAYLOAD_KEYS, payload_record
from ..ingest.records import ItemRecord
from ..models import Queue, ReviewItem
from ..selectors import item_list, items_filter
from ..services import IngestConflict, IngestOutcome, items_ingest, items_ingest_routed

logger = logging.getLogger(__name__)

MAX_ITEMS = 1000


class ReviewItemSerializer(serializers.ModelSerializer):
    queue = serializers.SlugRelatedField(slug_field="slug", read_only=True)

    class Meta:
        model = ReviewItem
        fields = [
            "id", "queue", "source", "external_id", "conversation", "response", "reference_response", "tools",
            "model", "metadata", "content_hash", "state", "created_at", "updated_at",
        ]
        read_only_fields = fields


class ItemFilter(django_filters.FilterSet):
    """Query parameters of the item list; the filtering itself is ``selectors.items_filter``."""

    queue = django_filters.CharFilter(help_text="Queue slug.")
    state = django_filters.ChoiceFilter(choices=ReviewItem.State.choices)
    source = django_filters.CharFilter()
    external_id = django_filters.CharFilter()
    model = django_filters.CharFilter()
    created_after = DateTimeFilter(help_text="Created at or after this ISO 8601 time.")
    created_before = DateTimeFilter(help_text="Created before this ISO 8601 time.")

    def filter_queryset(self, queryset):
        values = {name: value for name, value in self.form.cleaned_data.items() if value not in (None, "")}
        return items_filter(queryset, **values)


INGEST_RESPONSE = inline_serializer(
    name="ItemIngestResult",
    fields={
        "created": serializers.IntegerField(),
        "duplicates": serializers.IntegerField(),
        "unqueued": serializers.IntegerField(help_text="Items sent without a queue that no queue took."),
        "items": inline_serializer(
            name="ItemIngestOutcome",
            many=True,
            fields={
                "id": serializers.IntegerField(),
                "source": serializers.CharField(),
                "external_id": serializers.CharField(),
                "created": serializers.BooleanField(),
                "queue": serializers.CharField(allow_null=True, help_text="Slug of the item's queue; null if none took it."),
            },
        ),
    },
)


def records_parse(data) -> list[tuple[str | None, ItemRecord]]:
    """Validate the request body and return each item's queue slug and record, in request order.

    Raises a 400 error that names every invalid item by index and field.
    """
    many = isinstance(data, list)
    payloads = data if many else [data]
    if many and not payloads:
        raise ValidationError({"items": ["empty list; send at least one item"]})
    if len(payloads) > MAX_ITEMS:
        raise ValidationError(
            {"items": [f"{len(payloads)} items, more than the maximum of {MAX_ITEMS} per request; split the list"]}
        )
    parsed, errors = [], {}
    for index, payload in enumerate(payloads):
        label = f"items[{index}]" if many else ""
        try:
            parsed.append(payload_record(payload, label=label))
        except RowError as error:
            for field, reason in error.field_reasons().items():
                key = field_join(label, field) if field else (label or "non_field_errors")
                errors[key] = [reason]
    if errors:
        raise ValidationError(errors)
    return parsed


def _ingest(parsed: list[tuple[str | None, ItemRecord]], *, actor) -> list[IngestOutcome]:
    """Ingest every item in one transaction, queue by queue, and return the outcomes in request order.

    Items without a queue slug are routed together after the others.
    """
    slugs = {slug for slug, _ in parsed if slug is not None}
    queues = {queue.slug: queue for queue in queues_managed(actor).filter(slug__in=slugs)}
    missing = sorted(slugs - queues.keys())
    if missing:
        raise NotFound(
            f"Queue {missing[0]!r} not found among the queues you manage; "
            "check the slug, or ask a manager of that queue to add you as a manager."
        )

    positions: dict[str, list[int]] = defaultdict(list)
    for index, (slug, _) in enumerate(parsed):
        positions[slug].append(index)
    outcomes: list[IngestOutcome | None] = [None] * len(parsed)
    try:
        with transaction.atomic():
            for slug, indexes in positions.items():
                records = [parsed[i][1] for i in indexes]
                if slug is None:
                    result = items_ingest_routed(records=records, actor=actor)
                else:
                    result = items_ingest(queue=queues[slug], records=records, actor=actor)
                for index, outcome in zip(indexes, result.outcomes, strict=True):
                    outcomes[index] = outcome
    except IngestConflict as conflict:
        # Re-raised as a DRF error so that the message names the item and field, as for other invalid items.
        raise ValidationError(conflict.message_dict) from None
    return outcomes


class ItemViewSet(ScopedObjectMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """AI replies under review: ingest them into queues you manage, read those of queues you belong to."""

    # The schema generator reads the model from here; requests go through get_queryset.
    queryset = ReviewItem.objects.none()
    serializer_class = ReviewItemSerializer
    permission_classes = [IsAuthenticated, HasScope]
    required_scopes = {"default": Scope.READ, "create": Scope.INGEST}
    throttle_scopes = {"create": INGEST}
    filterset_class = ItemFilter
    parser_classes = [JSONParser]

    def get_queryset(self):
        return item_list(user=self.request.user)

    def get_object(self):
        try:
            return super().get_object()
        except Http404:
            raise NotFound(
                f"Item {self.kwargs.get('pk')} not found in the queues you belong to; check the id."
            ) from None

    @extend_schema(
        request=inline_serializer(
            name="ItemIngest",
            fields={key: serializers.JSONField(required=key in ("conversation", "response"))
                    for key in PAYLOAD_KEYS},
        ),
        responses={201: INGEST_RESPONSE},
        description=f"One item object, or a list of at most {MAX_ITEMS}; needs the ingest scope.",
    )
    def create(self, request):
        outcomes = _ingest(records_parse(request.data), actor=request.user)
        created = sum(outcome.created for outcome in outcomes)
        logger.info("items.api_ingested", extra={
            "user_id": request.user.pk, "created_count": created, "duplicate_count": len(outcomes) - created,
        })
        queue_ids = {outcome.queue_id for outcome in outcomes if outcome.queue_id is not None}
        slugs = dict(Queue.objects.filter(pk__in=queue_ids).values_list("pk", "slug"))
        body = {
            "created": created,
            "duplicates": len(outcomes) - created,
            "unqueued": sum(outcome.queue_id is None for outcome in outcomes),
            "items": [
                {
                    "id": o.id, "source": o.source, "external_id": o.external_id, "created": o.created,
                    "queue": slugs.get(o.queue_id),
                }
                for o in outcomes
            ],
        }
        return Response(body, status=status.HTTP_201_CREATED)


router.register("items", ItemViewSet, basename="item")
