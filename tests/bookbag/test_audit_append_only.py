"""The database itself rejects changes to the audit history on PostgreSQL."""

import pytest
from django.db import DatabaseError, connection, transaction

from bookbag.audit.models import AuditEvent
from bookbag.audit.pruning import audit_prune
from reviews.services import queue_update

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


@pytest.fixture
def event(queue, manager):
    queue_update(actor=manager, queue=queue, lease_minutes=45)
    return AuditEvent.objects.get(action="queue.update")


def run_sql(sql: str, params: list | None = None) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params or [])


def test_update_is_rejected(event):
    with pytest.raises(DatabaseError, match="append-only: UPDATE on audit_auditevent"):
        run_sql("UPDATE audit_auditevent SET action = 'forged' WHERE id = %s", [event.pk])

    event.refresh_from_db()
    assert event.action == "queue.update"


def test_orm_update_is_rejected(event):
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(action="forged")

    assert AuditEvent.objects.filter(action="forged").count() == 0


def test_delete_is_rejected(event):
    with pytest.raises(DatabaseError, match="append-only: DELETE on audit_auditevent"):
        run_sql("DELETE FROM audit_auditevent WHERE id = %s", [event.pk])

    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_truncate_is_rejected(event):
    with pytest.raises(DatabaseError, match="append-only: TRUNCATE"):
        run_sql("SET LOCAL bookbag.audit_truncate = 'off'; TRUNCATE audit_auditevent")

    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_queue_links_are_append_only(event):
    with pytest.raises(DatabaseError, match="append-only: DELETE on audit_auditeventqueue"):
        run_sql("DELETE FROM audit_auditeventqueue WHERE event_id = %s", [event.pk])


@pytest.mark.django_db(transaction=True)
def test_prune_setting_is_local_to_its_transaction(event):
    run_sql("SET LOCAL bookbag.audit_prune = 'on'")

    with pytest.raises(DatabaseError, match="append-only: DELETE"):
        run_sql("DELETE FROM audit_auditevent WHERE id = %s", [event.pk])


def test_prune_may_delete(event):
    import datetime

    from django.utils import timezone

    checkpoint = audit_prune(actor=None, older_than_days=1, now=timezone.now() + datetime.timedelta(days=2))

    assert checkpoint.pruned_through_id >= event.pk
    assert not AuditEvent.objects.filter(pk=event.pk).exists()
