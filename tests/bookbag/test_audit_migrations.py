import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from bookbag.audit.chain import GENESIS_HASH
from bookbag.audit.models import AuditEvent
from bookbag.audit.verify import chain_verify

BEFORE_HASHES = [("audit", "0001_initial")]
LATEST = [("audit", "0004_append_only_trigger")]


def migrate(targets) -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor


@pytest.mark.django_db(transaction=True)
def test_migration_chains_existing_events():
    executor = migrate(BEFORE_HASHES)
    OldEvent = executor.loader.project_state(BEFORE_HASHES).apps.get_model("audit", "AuditEvent")
    for n in range(3):
        OldEvent.objects.create(
            channel="shell", action="queue.touch", object_type="reviews.queue", object_id=str(n),
            before={"ratio": 1.0}, after={"ratio": 0.5 + n, "text": "é"},
        )

    migrate(LATEST)

    events = list(AuditEvent.objects.order_by("id"))
    assert events[0].previous_hash == GENESIS_HASH
    assert [event.previous_hash for event in events[1:]] == [event.hash for event in events[:-1]]
    assert chain_verify().broken is None
