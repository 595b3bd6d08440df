import datetime
import io

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from bookbag.audit.models import AuditCheckpoint, AuditEvent, AuditEventQueue
from bookbag.audit.pruning import audit_prune
from bookbag.audit.services import audit_record
from bookbag.audit.verify import chain_verify
from tests.bookbag.audit_tampering import tamper

pytestmark = pytest.mark.django_db

NOW = datetime.datetime(2026, 6, 1, tzinfo=datetime.UTC)


@pytest.fixture
def aged_events(queue, manager, monkeypatch):
    """Five events, created 100, 80, 60, 40 and 20 days before NOW."""
    events = []
    for days in (100, 80, 60, 40, 20):
        monkeypatch.setattr(timezone, "now", lambda days=days: NOW - datetime.timedelta(days=days))
        events.append(audit_record(actor=manager, action="queue.touch", instance=queue, after={"days": days}))
    monkeypatch.undo()
    return events


def test_prune_deletes_events_before_cutoff(aged_events):
    checkpoint = audit_prune(actor=None, older_than_days=50, now=NOW)

    kept = list(AuditEvent.objects.filter(action="queue.touch").order_by("id").values_list("after__days", flat=True))
    assert kept == [40, 20]
    assert checkpoint.pruned_count == 3
    assert checkpoint.pruned_through_id == aged_events[2].pk
    assert checkpoint.head_hash == aged_events[2].hash


def test_prune_deletes_queue_links(aged_events):
    audit_prune(actor=None, older_than_days=50, now=NOW)

    assert not AuditEventQueue.objects.filter(event_id__lte=aged_events[2].pk).exists()
    assert AuditEventQueue.objects.filter(event_id=aged_events[3].pk).exists()


def test_prune_records_event(aged_events):
    checkpoint = audit_prune(actor=None, older_than_days=50, now=NOW)

    event = AuditEvent.objects.get(action="audit.prune")
    assert event.object_id == str(checkpoint.pk)
    assert event.after["pruned_count"] == 3
    assert event.after["pruned_through_id"] == aged_events[2].pk


def test_chain_verifies_after_prune(aged_events):
    audit_prune(actor=None, older_than_days=50, now=NOW)

    report = chain_verify()

    assert report.broken is None
    assert report.checked == 3


def test_chain_verifies_after_pruning_everything(aged_events):
    audit_prune(actor=None, older_than_days=1, now=NOW)

    report = chain_verify()

    assert report.broken is None
    assert list(AuditEvent.objects.values_list("action", flat=True)) == ["audit.prune"]


def test_second_prune_starts_from_latest_checkpoint(aged_events):
    audit_prune(actor=None, older_than_days=70, now=NOW)
    audit_prune(actor=None, older_than_days=30, now=NOW)

    report = chain_verify()

    assert report.broken is None
    assert AuditCheckpoint.objects.count() == 2


def test_prune_with_nothing_old_writes_nothing(aged_events):
    checkpoint = audit_prune(actor=None, older_than_days=365, now=NOW)

    assert checkpoint is None
    assert AuditEvent.objects.count() == 5


@pytest.mark.parametrize("days", [0, -3, True, "30"])
def test_prune_rejects_bad_period(aged_events, days):
    with pytest.raises(Exception, match="at least 1 day"):
        audit_prune(actor=None, older_than_days=days, now=NOW)

    assert AuditEvent.objects.count() == 5


def test_forged_checkpoint_is_found(aged_events):
    AuditCheckpoint.objects.create(
        pruned_through_id=aged_events[1].pk, head_hash=aged_events[1].hash, cutoff=NOW, pruned_count=2
    )
    tamper("DELETE FROM audit_auditevent WHERE id <= %s", [aged_events[1].pk])

    report = chain_verify()

    assert report.broken is not None
    assert "has no audit.prune event" in report.broken.reason


def test_deleted_row_after_prune_is_found(aged_events):
    audit_prune(actor=None, older_than_days=50, now=NOW)
    tamper("DELETE FROM audit_auditevent WHERE id = %s", [aged_events[3].pk])

    report = chain_verify()

    assert report.broken.event_id == aged_events[4].pk
    assert report.broken.reason.startswith("link broken")


def test_command_prunes_with_setting(aged_events, settings, monkeypatch):
    settings.AUDIT_RETENTION_DAYS = 50
    monkeypatch.setattr(timezone, "now", lambda: NOW)
    out = io.StringIO()

    call_command("prune_audit", stdout=out)

    assert "Pruned 3 audit events older than 50 days" in out.getvalue()
    assert AuditEvent.objects.get(action="audit.prune").channel == "command"


def test_command_option_overrides_setting(aged_events, monkeypatch):
    monkeypatch.setattr(timezone, "now", lambda: NOW)
    out = io.StringIO()

    call_command("prune_audit", "--older-than", "90", stdout=out)

    assert "Pruned 1 audit events older than 90 days" in out.getvalue()


def test_command_rejects_zero_days(aged_events):
    with pytest.raises(CommandError, match="at least 1 day, not 0"):
        call_command("prune_audit", "--older-than", "0")
