"""Chain the events stored before events carried hashes, oldest first."""

from django.db import migrations

from bookbag.audit.chain import GENESIS_HASH, event_hash

BATCH_SIZE = 2000


def hash_events(apps, schema_editor):
    AuditEvent = apps.get_model("audit", "AuditEvent")
    previous = GENESIS_HASH
    last_id = 0
    while True:
        batch = list(AuditEvent.objects.filter(id__gt=last_id).order_by("id")[:BATCH_SIZE])
        if not batch:
            return
        for event in batch:
            event.previous_hash = previous
            event.hash = previous = event_hash(event)
        AuditEvent.objects.bulk_update(batch, ["previous_hash", "hash"])
        last_id = batch[-1].id


class Migration(migrations.Migration):

    dependencies = [("audit", "0002_event_hash_chain")]

    # Unhashing is a no-op: the previous schema has no hash columns to clear.
    operations = [migrations.RunPython(hash_events, migrations.RunPython.noop)]
