import io

import pytest
from django.core.management import call_command

from bookbag.audit.models import AuditEvent
from reviews.services import queue_update
from tests.bookbag.audit_tampering import tamper

pytestmark = pytest.mark.django_db


@pytest.fixture
def events(queue, manager):
    for minutes in (31, 32, 33, 34):
        queue_update(actor=manager, queue=queue, lease_minutes=minutes)
    return list(AuditEvent.objects.filter(action="queue.update").order_by("id"))


def run_verify() -> tuple[int, str, str]:
    stdout, stderr = io.StringIO(), io.StringIO()
    try:
        call_command("verify_audit", "--progress-every", "2", stdout=stdout, stderr=stderr)
    except SystemExit as exit_:
        return exit_.code, stdout.getvalue(), stderr.getvalue()
    return 0, stdout.getvalue(), stderr.getvalue()


def test_intact_chain_reports_count(events):
    code, out, err = run_verify()

    total = AuditEvent.objects.count()
    assert code == 0
    assert f"Audit chain intact: {total} events checked" in out
    assert "checked 2 events" in err


def test_empty_history_is_intact(db):
    code, out, _ = run_verify()

    assert code == 0
    assert "0 events checked" in out


def test_changed_content_is_found(events):
    target = events[1]
    tamper("UPDATE audit_auditevent SET actor_label = %s WHERE id = %s", ["intruder", target.pk])

    code, _, err = run_verify()

    assert code == 1
    assert f"Audit chain broken at event {target.pk}: content changed" in err


def test_changed_json_is_found(events):
    target = events[2]
    tamper("UPDATE audit_auditevent SET after = %s WHERE id = %s", ['{"lease_minutes": 99}', target.pk])

    code, _, err = run_verify()

    assert code == 1
    assert f"Audit chain broken at event {target.pk}: content changed" in err


def test_deleted_row_is_found(events):
    tamper("DELETE FROM audit_auditevent WHERE id = %s", [events[1].pk])

    code, _, err = run_verify()

    assert code == 1
    assert f"Audit chain broken at event {events[2].pk}: link broken" in err
    assert f"hash of event {events[0].pk}" in err


def test_deleted_first_row_is_found(events):
    first = AuditEvent.objects.order_by("id").first()
    second = AuditEvent.objects.filter(id__gt=first.pk).order_by("id").first()
    tamper("DELETE FROM audit_auditevent WHERE id = %s", [first.pk])

    code, _, err = run_verify()

    assert code == 1
    assert f"Audit chain broken at event {second.pk}: link broken" in err


def test_rehashed_row_breaks_next_link(events):
    from bookbag.audit.chain import event_hash

    target = AuditEvent.objects.get(pk=events[1].pk)
    target.actor_label = "intruder"
    tamper(
        "UPDATE audit_auditevent SET actor_label = %s, hash = %s WHERE id = %s",
        ["intruder", event_hash(target), target.pk],
    )

    code, _, err = run_verify()

    assert code == 1
    assert f"Audit chain broken at event {events[2].pk}: link broken" in err
