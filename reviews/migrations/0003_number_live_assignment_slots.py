"""Give each item's live assignments the slots 1, 2, … in claim order, before slots become unique."""

from django.db import migrations

BATCH_SIZE = 2000
LIVE_STATES = ("reserved", "claimed", "submitted")


def number_slots(apps, schema_editor):
    Assignment = apps.get_model("reviews", "Assignment")
    live = Assignment.objects.filter(state__in=LIVE_STATES).order_by("item_id", "id").only("id", "item_id", "slot")
    next_slot: dict[int, int] = {}
    changed = []
    for assignment in live.iterator(chunk_size=BATCH_SIZE):
        assignment.slot = next_slot.get(assignment.item_id, 1)
        next_slot[assignment.item_id] = assignment.slot + 1
        changed.append(assignment)
        if len(changed) >= BATCH_SIZE:
            Assignment.objects.bulk_update(changed, ["slot"])
            changed = []
    Assignment.objects.bulk_update(changed, ["slot"])


class Migration(migrations.Migration):

    dependencies = [
        ('reviews', '0002_assignment_slots_and_reservations'),
    ]

    operations = [
        migrations.RunPython(number_slots, migrations.RunPython.noop),
    ]
