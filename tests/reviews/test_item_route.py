import pytest
from django.core.exceptions import ValidationError

from reviews.ingest.records import ItemRecord
from reviews.routing import sample_point
from reviews.services import queue_create
from reviews.services.routing import item_route
from tests.factories import QueueFactory, RubricFactory

pytestmark = pytest.mark.django_db


def _record(external_id="chat-1", source="support-bot", model="gpt-test", metadata=None) -> ItemRecord:
    return ItemRecord(
        source=source, external_id=external_id, conversation=[], response={"role": "assistant", "content": "Hi."},
        reference_response=None, tools=None, model=model, metadata=metadata or {}, content_hash="0" * 64,
    )


def test_route_matches_source_model_and_metadata():
    queue = QueueFactory(routing_rules={"source": "support-bot", "model": ["gpt-test"], "metadata": {"lang": ["de", "fr"]}})

    assert item_route(item=_record(metadata={"lang": "fr"})) == queue


def test_route_rejects_other_metadata_value():
    QueueFactory(routing_rules={"metadata": {"lang": "de"}})

    assert item_route(item=_record(metadata={"lang": "en"})) is None


def test_route_rejects_missing_metadata_key():
    QueueFactory(routing_rules={"metadata": {"lang": "de"}})

    assert item_route(item=_record()) is None


def test_route_ignores_queue_without_rules():
    QueueFactory(routing_rules={})

    assert item_route(item=_record()) is None


def test_route_ignores_paused_queue():
    QueueFactory(routing_rules={"source": "support-bot"}, is_active=False)

    assert item_route(item=_record()) is None


def test_route_prefers_oldest_matching_queue():
    first = QueueFactory(routing_rules={"source": "support-bot"})
    QueueFactory(routing_rules={"model": "gpt-test"})

    assert item_route(item=_record()) == first


def test_sampling_takes_deterministic_share():
    queue = QueueFactory(routing_rules={"source": "support-bot"}, sampling_rate=0.25)
    records = [_record(external_id=f"chat-{number}") for number in range(2000)]

    routed = [record for record in records if item_route(item=record) == queue]

    expected = [record for record in records if sample_point(source=record.source, external_id=record.external_id) < 0.25]
    assert routed == expected
    assert 400 <= len(routed) <= 600
    assert [item_route(item=record) for record in routed[:20]] == [queue] * len(routed[:20])


def test_sampling_rate_zero_takes_nothing():
    QueueFactory(routing_rules={"source": "support-bot"}, sampling_rate=0.0)

    assert item_route(item=_record()) is None


@pytest.mark.parametrize(
    "rules",
    [["support-bot"], {"team": "a"}, {"source": ""}, {"model": [1]}, {"metadata": ["lang"]}],
)
def test_queue_rejects_malformed_rules(manager, rules):
    with pytest.raises(ValidationError):
        queue_create(actor=manager, name="Routed", slug="routed", rubric=RubricFactory(), routing_rules=rules)
