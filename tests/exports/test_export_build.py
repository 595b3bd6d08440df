import hashlib
import json

import pytest

from bookbag.audit.models import AuditEvent
from exports import services
from exports.models import ExportJob
from exports.services import export_build, export_request
from reviews.models import Review
from tests.exports.conftest import AMBER_FIX, bundle_members, jsonl_rows

pytestmark = pytest.mark.django_db


def _queued_job(manager, queue, **options) -> ExportJob:
    return export_request(
        requester=manager, kind=options.pop("kind", "both"), format=options.pop("format", "trl"),
        filters=options.pop("filters", {"queues": [queue.slug]}), enqueue=False,
    )


def test_build_stores_zip_and_marks_success(manager, queue, mixed_items):
    job = export_build(job_id=_queued_job(manager, queue).pk)

    job.refresh_from_db()
    assert job.state == ExportJob.State.SUCCEEDED
    assert job.bundle.name == f"exports/bundle-{job.pk}.zip"
    assert job.started_at <= job.finished_at
    assert job.error == ""
    assert (job.rows_done, job.rows_total, job.progress) == (4, 4, 1.0)


def test_job_sha256_matches_stored_zip(manager, queue, mixed_items):
    job = export_build(job_id=_queued_job(manager, queue).pk)

    with job.bundle.open("rb") as handle:
        assert hashlib.sha256(handle.read()).hexdigest() == job.sha256


def test_bundle_holds_data_meta_card_and_manifest(manager, queue, mixed_items):
    job = export_build(job_id=_queued_job(manager, queue).pk)

    assert sorted(bundle_members(job)) == [
        "README.md", "dpo.jsonl", "manifest.json", "meta/examples.jsonl", "sft.jsonl",
    ]


@pytest.mark.parametrize(("kind", "files"), [("sft", ["sft.jsonl"]), ("dpo", ["dpo.jsonl"])])
def test_single_kind_writes_one_data_file(manager, queue, mixed_items, kind, files):
    job = export_build(job_id=_queued_job(manager, queue, kind=kind).pk)

    data_files = [name for name in bundle_members(job) if name.endswith(".jsonl") and "/" not in name]
    assert data_files == files


def test_counts_by_verdict_and_rows(manager, queue, mixed_items):
    job = export_build(job_id=_queued_job(manager, queue).pk)

    assert job.counts == {
        "items": 4,
        "verdicts": {"approved": 1, "needs_fix": 2, "rejected": 1},
        "rows": {"sft": 3, "dpo": 2},
        "dpo_pairs_dropped_identical": 0,
        "items_skipped_invalid": 0,
    }


def test_manifest_hashes_match_files(manager, queue, mixed_items):
    job = export_build(job_id=_queued_job(manager, queue).pk)

    members = bundle_members(job)
    manifest = json.loads(members["manifest.json"])
    assert [entry["path"] for entry in manifest["files"]] == ["sft.jsonl", "dpo.jsonl", "meta/examples.jsonl"]
    for entry in manifest["files"]:
        data = members[entry["path"]]
        assert entry["sha256"] == hashlib.sha256(data).hexdigest()
        assert entry["bytes"] == len(data)
        assert entry["rows"] == len(data.splitlines())
    assert manifest == job.manifest


def test_manifest_describes_job(manager, queue, mixed_items):
    job = export_build(job_id=_queued_job(manager, queue, format="openai").pk)

    manifest = job.manifest
    assert manifest["schema_version"] == 1
    assert manifest["job_id"] == job.pk
    assert manifest["bundle_id"] == f"bookbag-export-{job.pk}"
    assert manifest["kind"] == "both"
    assert manifest["format"] == "openai"
    assert manifest["filters"]["queues"] == [queue.slug]
    assert manifest["counts"] == job.counts
    assert manifest["rubric_versions"] == [queue.rubric.label]
    assert manifest["tool_arguments"] == "json_string"
    assert manifest["created_at"]
    assert [entry["format"] for entry in manifest["files"]] == [
        "openai.chat.sft", "openai.preference", "bookbag.provenance",
    ]


def test_rows_sorted_by_item_id(manager, queue, mixed_items):
    job = export_build(job_id=_queued_job(manager, queue).pk)

    provenance = jsonl_rows(bundle_members(job)["meta/examples.jsonl"])
    sft_ids = [row["item_id"] for row in provenance if row["file"] == "sft.jsonl"]
    assert sft_ids == sorted(sft_ids) == [mixed_items[0].pk, mixed_items[1].pk, mixed_items[2].pk]


def test_provenance_points_at_each_row(manager, queue, reviewer, mixed_items):
    job = export_build(job_id=_queued_job(manager, queue).pk)

    members = bundle_members(job)
    provenance = jsonl_rows(members["meta/examples.jsonl"])
    assert len(provenance) == 5
    for entry in provenance:
        row = jsonl_rows(members[entry["file"]])[entry["line"] - 1]
        assert row["meta_example_id"] == entry["example_id"] == f"item-{entry['item_id']}"
        assert entry["reviewer_id"] == reviewer.pk
        assert entry["queue"] == queue.slug
        assert entry["rubric_slug"] == queue.rubric.slug


def test_same_data_gives_same_files(manager, queue, mixed_items):
    first = export_build(job_id=_queued_job(manager, queue).pk)
    second = export_build(job_id=_queued_job(manager, queue).pk)

    first_members, second_members = bundle_members(first), bundle_members(second)
    for name in ("sft.jsonl", "dpo.jsonl", "meta/examples.jsonl", "README.md"):
        assert first_members[name] == second_members[name]


def test_identical_pairs_are_dropped_and_counted(manager, queue, make_reviewed):
    make_reviewed(Review.Verdict.NEEDS_FIX, corrected_response="Your router is broken;  buy a new one.")
    make_reviewed(Review.Verdict.NEEDS_FIX, corrected_response=AMBER_FIX)

    job = export_build(job_id=_queued_job(manager, queue).pk)

    assert job.counts["dpo_pairs_dropped_identical"] == 1
    assert job.counts["rows"] == {"sft": 2, "dpo": 1}


def test_invalid_items_are_skipped_and_listed(manager, queue, make_reviewed):
    broken = make_reviewed(Review.Verdict.APPROVED, conversation=[{"role": "human", "content": "Hi"}])
    make_reviewed(Review.Verdict.APPROVED)

    job = export_build(job_id=_queued_job(manager, queue).pk)

    assert job.state == ExportJob.State.SUCCEEDED
    assert job.counts["items_skipped_invalid"] == 1
    assert job.counts["verdicts"]["approved"] == 2
    assert job.counts["rows"]["sft"] == 1
    assert job.manifest["skipped_items"] == [
        {"item_id": broken.pk, "reason": "message 0 has role 'human'; expected one of system, user, assistant, tool"}
    ]


def test_empty_selection_builds_empty_bundle(manager, queue):
    job = export_build(job_id=_queued_job(manager, queue).pk)

    members = bundle_members(job)
    assert job.state == ExportJob.State.SUCCEEDED
    assert members["sft.jsonl"] == b""
    assert "configs:" not in members["README.md"].decode()


def test_build_records_start_and_success_events(manager, queue, mixed_items):
    job = export_build(job_id=_queued_job(manager, queue).pk)

    actions = list(
        AuditEvent.objects.filter(object_id=str(job.pk), action__startswith="export.")
        .order_by("id").values_list("action", flat=True)
    )
    assert actions == ["export.request", "export.start", "export.succeed"]


def test_redelivered_build_does_nothing(manager, queue, mixed_items):
    job = export_build(job_id=_queued_job(manager, queue).pk)

    again = export_build(job_id=job.pk)

    assert again is None
    job.refresh_from_db()
    assert job.state == ExportJob.State.SUCCEEDED
    assert AuditEvent.objects.filter(object_id=str(job.pk), action="export.start").count() == 1


def test_build_of_missing_job_does_nothing(db):
    assert export_build(job_id=999_999) is None


def test_progress_is_saved_per_chunk(manager, queue, make_reviewed, monkeypatch, django_assert_max_num_queries):
    for _ in range(5):
        make_reviewed(Review.Verdict.APPROVED)
    monkeypatch.setattr(services, "CHUNK_SIZE", 2)
    job = _queued_job(manager, queue)

    with django_assert_max_num_queries(100) as captured:
        export_build(job_id=job.pk)

    progress_updates = [
        query["sql"] for query in captured.captured_queries
        if query["sql"].startswith('UPDATE "exports_exportjob" SET "rows_done"')
    ]
    assert len(progress_updates) == 2
    job.refresh_from_db()
    assert job.rows_done == job.rows_total == 5


def test_queries_do_not_grow_with_items(manager, queue, make_reviewed, django_assert_max_num_queries):
    make_reviewed(Review.Verdict.APPROVED)
    small_job = _queued_job(manager, queue)
    with django_assert_max_num_queries(100) as small:
        export_build(job_id=small_job.pk)
    for _ in range(6):
        make_reviewed(Review.Verdict.NEEDS_FIX, corrected_response=AMBER_FIX)
    large_job = _queued_job(manager, queue)
    with django_assert_max_num_queries(100) as large:
        export_build(job_id=large_job.pk)

    assert len(large.captured_queries) == len(small.captured_queries)


def test_deleted_since_export_job_fails_build(manager, queue, mixed_items):
    earlier = _queued_job(manager, queue)
    job = _queued_job(manager, queue, filters={"queues": [queue.slug], "since_export": earlier.pk})
    ExportJob.objects.filter(pk=earlier.pk).delete()

    result = export_build(job_id=job.pk)

    job.refresh_from_db()
    assert result.state == job.state == ExportJob.State.FAILED
    assert job.error == (
        f"Export {earlier.pk}, named by since_export, no longer exists; request a new export without it."
    )
    assert AuditEvent.objects.filter(object_id=str(job.pk), action="export.fail").exists()


def test_unexpected_error_fails_job_and_reraises(manager, queue, mixed_items, settings, tmp_path):
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the media folder should be")
    settings.MEDIA_ROOT = blocker
    job = _queued_job(manager, queue)

    with pytest.raises(OSError):
        export_build(job_id=job.pk)

    job.refresh_from_db()
    assert job.state == ExportJob.State.FAILED
    assert job.error.startswith("Unexpected error while building the bundle: ")
    assert not job.bundle
