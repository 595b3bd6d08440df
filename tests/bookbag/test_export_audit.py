import json

import pytest
from django.core.management import CommandError, call_command

from bookbag.audit.models import AuditEvent
from reviews.services import queue_update

pytestmark = pytest.mark.django_db


@pytest.fixture
def events(queue, manager):
    for minutes in (31, 32):
        queue_update(actor=manager, queue=queue, lease_minutes=minutes)
    return list(AuditEvent.objects.order_by("id"))


def test_export_writes_one_line_per_event(events, tmp_path):
    output = tmp_path / "audit.jsonl"

    call_command("export_audit", "--output", str(output))

    rows = [json.loads(line) for line in output.read_text().splitlines()]
    assert [row["id"] for row in rows] == [event.pk for event in events]
    assert rows[-1]["hash"] == events[-1].hash
    assert rows[-1]["previous_hash"] == events[-2].hash
    assert rows[-1]["after"] == {"lease_minutes": 32}


def test_export_filters_by_time(events, tmp_path):
    output = tmp_path / "audit.jsonl"
    since = "2999-01-01"

    call_command("export_audit", "--since", since, "--output", str(output))

    assert output.read_text() == ""


def test_export_until_before_all_is_empty(events, tmp_path):
    output = tmp_path / "audit.jsonl"

    call_command("export_audit", "--until", "2000-01-01T00:00", "--output", str(output))

    assert output.read_text() == ""


def test_export_since_includes_events(events, tmp_path):
    output = tmp_path / "audit.jsonl"

    call_command("export_audit", "--since", "2000-01-01", "--until", "2999-01-01", "--output", str(output))

    assert len(output.read_text().splitlines()) == len(events)


def test_export_rejects_bad_date(events, tmp_path):
    with pytest.raises(CommandError, match="--since 'yesterday' is not an ISO 8601 date"):
        call_command("export_audit", "--since", "yesterday", "--output", str(tmp_path / "a.jsonl"))


def test_export_rejects_missing_folder(events, tmp_path):
    with pytest.raises(CommandError, match="does not exist"):
        call_command("export_audit", "--output", str(tmp_path / "missing" / "a.jsonl"))


def test_export_keeps_existing_file(events, tmp_path):
    output = tmp_path / "audit.jsonl"
    output.write_text("keep me\n")

    with pytest.raises(CommandError, match="exists; choose another --output, or add --force"):
        call_command("export_audit", "--output", str(output))

    assert output.read_text() == "keep me\n"


def test_export_force_replaces_file(events, tmp_path):
    output = tmp_path / "audit.jsonl"
    output.write_text("old\n")

    call_command("export_audit", "--output", str(output), "--force")

    assert len(output.read_text().splitlines()) == len(events)
    assert [path.name for path in tmp_path.iterdir()] == ["audit.jsonl"]
