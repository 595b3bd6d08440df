"""Concurrent writers on PostgreSQL append to one chain that never forks."""

import threading

import pytest
from django.db import connection, transaction

from bookbag.audit.models import AuditEvent
from bookbag.audit.services import audit_record
from bookbag.audit.verify import chain_verify
from tests.factories import QueueFactory, UserFactory

WRITERS = 4
EVENTS_PER_WRITER = 15


def _write(queue_pk: int, user_pk: int, errors: list, barrier: threading.Barrier) -> None:
    from django.contrib.auth import get_user_model

    from reviews.models import Queue

    try:
        queue, user = Queue.objects.get(pk=queue_pk), get_user_model().objects.get(pk=user_pk)
        barrier.wait()
        for n in range(EVENTS_PER_WRITER):
            with transaction.atomic():
                audit_record(actor=user, action="queue.touch", instance=queue, after={"n": n})
    except Exception as error:  # collected so the main thread's assert shows it
        errors.append(error)
    finally:
        connection.close()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_appends_keep_one_chain():
    queue = QueueFactory()
    users = [UserFactory(username=f"writer{n}") for n in range(WRITERS)]
    errors: list = []
    barrier = threading.Barrier(WRITERS)
    threads = [threading.Thread(target=_write, args=(queue.pk, user.pk, errors, barrier)) for user in users]

    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    previous_hashes = list(AuditEvent.objects.values_list("previous_hash", flat=True))
    assert errors == []
    assert AuditEvent.objects.filter(action="queue.touch").count() == WRITERS * EVENTS_PER_WRITER
    assert len(previous_hashes) == len(set(previous_hashes))
    assert chain_verify().broken is None
