import hashlib
import io
import json
import zipfile

import pytest
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from bookbag.audit.models import AuditEvent
from exports.models import ExportJob
from tests.exports.conftest import bundle_members
from tests.factories import QueueFactory, UserFactory

pytestmark = pytest.mark.django_db


def _export(queue, output, *extra) -> str:
    stdout = io.StringIO()
    call_command("export", "--queue", queue.slug, "--output", str(output), "--as", "manager", *extra, stdout=stdout)
    return stdout.getvalue()


def _zip_members(path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def test_command_writes_bundle(manager, queue, mixed_items, tmp_path):
    output = tmp_path / "export.zip"

    _export(queue, output, "--kind", "both", "--format", "openai")

    job = ExportJob.objects.get()
    assert job.state == ExportJob.State.SUCCEEDED
    assert job.format == "openai"
    assert hashlib.sha256(output.read_bytes()).hexdigest() == job.sha256
    manifest = json.loads(_zip_members(output)["manifest.json"])
    assert manifest["counts"]["rows"] == {"sft": 3, "dpo": 2}


def test_command_prints_counts(manager, queue, mixed_items, tmp_path):
    printed = _export(queue, tmp_path / "export.zip")

    assert "Items: 4 (approved 1, needs_fix 2, rejected 1)" in printed
    assert "sft rows: 3" in printed
    assert "dpo rows: 2" in printed
    assert "Identical pairs dropped: 0" in printed
    assert f"to {tmp_path / 'export.zip'}" in printed


def test_command_matches_api_bundle(manager, queue, mixed_items, tmp_path, django_capture_on_commit_callbacks):
    client = APIClient()
    client.force_authenticate(manager)
    with django_capture_on_commit_callbacks(execute=True):
        created = client.post("/api/v1/exports/", {"kind": "both", "format": "trl",
                                                    "filters": {"queues": [queue.slug]}}, format="json").json()
    api_members = bundle_members(ExportJob.objects.get(pk=created["id"]))

    output = tmp_path / "export.zip"
    _export(queue, output, "--kind", "both", "--format", "trl")
    command_members = _zip_members(output)

    assert sorted(command_members) == sorted(api_members)
    for name in ("sft.jsonl", "dpo.jsonl", "meta/examples.jsonl", "README.md"):
        assert command_members[name] == api_members[name], name
    api_manifest = json.loads(api_members["manifest.json"])
    command_manifest = json.loads(command_members["manifest.json"])
    assert command_manifest["files"] == api_manifest["files"]
    assert command_manifest["counts"] == api_manifest["counts"]


def test_command_builds_chosen_kind(manager, queue, mixed_items, tmp_path):
    output = tmp_path / "export.zip"

    printed = _export(queue, output, "--kind", "kto")

    assert "kto rows: 6 (0 duplicates removed)" in printed
    assert sorted(_zip_members(output)) == ["README.md", "kto.jsonl", "manifest.json", "meta/examples.jsonl"]


def test_command_passes_file_options(manager, queue, mixed_items, tmp_path):
    output = tmp_path / "export.zip"

    printed = _export(queue, output, "--kind", "sft", "--validation-ratio", "0.5", "--redact-pii",
                      "--tool-arguments", "string")

    job = ExportJob.objects.get()
    assert job.options == {"tool_arguments": "string", "validation_ratio": 0.5, "redact_pii": True}
    assert {"sft.train.jsonl", "sft.validation.jsonl"} <= set(_zip_members(output))
    assert "Redacted: card 0, email 0, phone 0, ssn 0" in printed


def test_invalid_ratio_is_refused(manager, queue, tmp_path):
    with pytest.raises(CommandError) as error:
        _export(queue, tmp_path / "x.zip", "--validation-ratio", "2")

    assert str(error.value) == (
        "validation_ratio must be a number from 0 up to, but not including, 1 (such as 0.1); got 2.0."
    )
    assert ExportJob.objects.count() == 0


def test_command_records_command_channel(manager, queue, mixed_items, tmp_path):
    _export(queue, tmp_path / "export.zip")

    job = ExportJob.objects.get()
    events = AuditEvent.objects.filter(object_type="exports.exportjob", object_id=str(job.pk))
    channels = set(events.values_list("channel", flat=True))
    assert channels == {"command"}


def test_command_defaults_to_first_superuser(queue, mixed_items, tmp_path):
    admin = UserFactory(username="admin", is_superuser=True)

    call_command("export", "--queue", queue.slug, "--output", str(tmp_path / "export.zip"), stdout=io.StringIO())

    assert ExportJob.objects.get().requester == admin


def test_missing_queue_is_named(manager, tmp_path):
    with pytest.raises(CommandError) as error:
        call_command("export", "--queue", "no-such-queue", "--output", str(tmp_path / "x.zip"), "--as", "manager")

    assert str(error.value) == "Queue 'no-such-queue' not found among the queues you manage; check the slug."


def test_unmanaged_queue_is_refused(manager, tmp_path):
    foreign = QueueFactory(slug="foreign")

    with pytest.raises(CommandError) as error:
        _export(foreign, tmp_path / "x.zip")

    assert "'foreign' not found" in str(error.value)


def test_output_directory_is_refused(manager, queue, tmp_path):
    with pytest.raises(CommandError) as error:
        _export(queue, tmp_path)

    assert str(error.value) == (
        f"Output path {str(tmp_path)!r} is a directory; give a file path such as {str(tmp_path / 'export.zip')!r}."
    )
    assert ExportJob.objects.count() == 0


def test_missing_output_folder_is_refused(manager, queue, tmp_path):
    with pytest.raises(CommandError) as error:
        _export(queue, tmp_path / "missing" / "export.zip")

    assert "does not exist; create it first" in str(error.value)


def test_existing_output_needs_force(manager, queue, mixed_items, tmp_path):
    output = tmp_path / "export.zip"
    output.write_bytes(b"older bundle")

    with pytest.raises(CommandError) as error:
        _export(queue, output)
    assert "already exists; pass --force" in str(error.value)
    assert output.read_bytes() == b"older bundle"

    _export(queue, output, "--force")
    assert zipfile.is_zipfile(output)


def test_unknown_user_is_named(queue, tmp_path):
    with pytest.raises(CommandError) as error:
        call_command("export", "--queue", queue.slug, "--output", str(tmp_path / "x.zip"), "--as", "ghost")

    assert str(error.value) == "User 'ghost' not found; pass the username of a manager with --as."


def test_reviewer_cannot_export(reviewer, queue, tmp_path):
    with pytest.raises(CommandError) as error:
        call_command("export", "--queue", queue.slug, "--output", str(tmp_path / "x.zip"), "--as", "reviewer")

    assert str(error.value) == (
        "User 'reviewer' is not a manager, so they cannot request exports; pass a manager's username with --as, "
        "or give 'reviewer' the manage_workspace permission."
    )


def test_no_superuser_needs_as(queue, tmp_path):
    with pytest.raises(CommandError) as error:
        call_command("export", "--queue", queue.slug, "--output", str(tmp_path / "x.zip"))

    assert "No active superuser exists; pass --as USERNAME" in str(error.value)


def test_unknown_format_is_refused(manager, queue, tmp_path):
    with pytest.raises(CommandError) as error:
        _export(queue, tmp_path / "x.zip", "--format", "alpaca")

    assert "invalid choice: 'alpaca'" in str(error.value)
