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
        "duplicates_removed": {"sft": 0, "dpo": 0},
        "dpo_pairs_dropped_identical": 0,
        "trivial_edits": 0,
        "rows_invalid": 0,
        "items_skipped_invalid": 0,
        "redacted": {"email": 0, "card": 0, "ssn": 0, "phone": 0},
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
    assert manifest["schema_version"] == 3
    assert manifest["bundle_id"] == f"bookbag-export-{job.pk}"
    assert manifest["kind"] == "both"
    assert manifest["kinds"] == ["sft", "dpo"]
    assert manifest["format"] == "openai"
    assert manifest["filters"]["queues"] == [queue.slug]
    assert manifest["counts"] == job.counts
    assert manifest["rubric_versions"] == [queue.rubric.label]
    assert manifest["tool_arguments"] == "string"
    assert manifest["parent_bundle"] is None
    assert manifest["split"] == {"validation_ratio": 0.0, "rows": {"sft": {"train": 3}, "dpo": {"train": 2}}}
    assert manifest["redact_pii"] is False
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
    earlier = export_build(job_id=_queued_job(manager, queue).pk)
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


def _zip_infos(job) -> list[tuple]:
    import zipfile

    with job.bundle.open("rb") as handle, zipfile.ZipFile(handle) as archive:
        return [(info.filename, info.date_time, info.CRC) for info in archive.infolist()]


@pytest.mark.parametrize(("kind", "export_format"), [("all", "trl"), ("all", "openai")])
def test_rebuild_is_byte_identical(build, mixed_items, kind, export_format):
    options = {"validation_ratio": 0.5, "redact_pii": True}
    first = build(kind=kind, export_format=export_format, options=options)
    second = build(kind=kind, export_format=export_format, options=options)

    first_members, second_members = bundle_members(first), bundle_members(second)
    assert sorted(first_members) == sorted(second_members)
    for name in first_members:
        if name != "manifest.json":
            assert first_members[name] == second_members[name], name
    first_manifest, second_manifest = json.loads(first_members["manifest.json"]), json.loads(
        second_members["manifest.json"])
    differing = {key for key in first_manifest if first_manifest[key] != second_manifest[key]}
    assert differing == {"bundle_id", "created_at"}
    assert [info for info in _zip_infos(first) if info[0] != "manifest.json"] == [
        info for info in _zip_infos(second) if info[0] != "manifest.json"
    ]
    assert {info[1] for info in _zip_infos(first)} == {(1980, 1, 1, 0, 0, 0)}


def test_data_files_hold_no_timestamps(build, mixed_items):
    members = bundle_members(build(kind="all"))
    moment = mixed_items[0].final_review.submitted_at.isoformat()

    for name in ("sft.jsonl", "dpo.jsonl", "kto.jsonl", "sft_messages.jsonl"):
        assert moment not in members[name].decode()
    assert moment in members["meta/examples.jsonl"].decode()


def test_all_writes_every_trl_file(build, mixed_items):
    job = build(kind="all")

    assert job.counts["rows"] == {"sft": 3, "dpo": 2, "kto": 6, "sft_messages": 3}
    kto = jsonl_rows(bundle_members(job)["kto.jsonl"])
    assert [row["label"] for row in kto] == [True, True, False, True, False, False]


def test_duplicates_are_removed_and_counted(build, make_reviewed):
    first = make_reviewed(Review.Verdict.APPROVED)
    make_reviewed(Review.Verdict.APPROVED)
    make_reviewed(Review.Verdict.NEEDS_FIX, corrected_response=AMBER_FIX)
    make_reviewed(Review.Verdict.NEEDS_FIX, corrected_response=AMBER_FIX)

    job = build(kind="all")

    members = bundle_members(job)
    assert job.counts["rows"] == {"sft": 2, "dpo": 1, "kto": 3, "sft_messages": 2}
    assert job.counts["duplicates_removed"] == {"sft": 2, "dpo": 1, "kto": 3, "sft_messages": 2}
    assert jsonl_rows(members["sft.jsonl"])[0]["meta_example_id"] == f"item-{first.pk}"


def test_same_reply_to_other_prompt_is_kept(build, make_reviewed):
    make_reviewed(Review.Verdict.APPROVED)
    make_reviewed(Review.Verdict.APPROVED, conversation=[{"role": "user", "content": "The LOS light is red."}])

    job = build(kind="sft")

    assert job.counts["rows"] == {"sft": 2}
    assert job.counts["duplicates_removed"] == {"sft": 0}


def test_trivial_edits_are_flagged_and_counted(build, make_reviewed):
    trivial = make_reviewed(Review.Verdict.NEEDS_FIX, corrected_response="Your router is broken, buy a new one!")
    make_reviewed(Review.Verdict.NEEDS_FIX, conversation=[{"role": "user", "content": "Other?"}],
                  corrected_response=AMBER_FIX)

    job = build()

    provenance = jsonl_rows(bundle_members(job)["meta/examples.jsonl"])
    flags = {(entry["item_id"], entry["file"]): entry["trivial_edit"] for entry in provenance}
    assert flags[(trivial.pk, "sft.jsonl")] is True
    assert flags[(trivial.pk, "dpo.jsonl")] is True
    assert sum(flags.values()) == 2
    assert job.counts["trivial_edits"] == 1
    assert job.counts["rows"] == {"sft": 2, "dpo": 2}


def test_pii_is_redacted_in_every_file(build, make_reviewed):
    conversation = [{"role": "user", "content": "I'm jane@example.com; my card 4111 1111 1111 1111 failed."}]
    make_reviewed(Review.Verdict.NEEDS_FIX, conversation=conversation, corrected_response=(
        "Sorry, jane@example.com. Call us at 555-123-4567 with SSN 123-45-6789 ready."))

    job = build(kind="all", options={"redact_pii": True})

    members = bundle_members(job)
    sft = jsonl_rows(members["sft.jsonl"])[0]
    assert sft["prompt"][0]["content"] == "I'm [EMAIL]; my card [CARD] failed."
    assert sft["completion"][0]["content"] == "Sorry, [EMAIL]. Call us at [PHONE] with SSN [SSN] ready."
    for name, data in members.items():
        assert b"jane@example.com" not in data, name
        assert b"4111 1111" not in data, name
    # Each text counts once per example, however many files repeat it.
    assert job.counts["redacted"] == {"email": 2, "card": 1, "ssn": 1, "phone": 1}
    assert job.manifest["redact_pii"] is True


def test_pii_stays_without_redaction(build, make_reviewed):
    make_reviewed(Review.Verdict.APPROVED, conversation=[{"role": "user", "content": "I'm jane@example.com."}])

    job = build()

    assert b"jane@example.com" in bundle_members(job)["sft.jsonl"]
    assert job.counts["redacted"] == {"email": 0, "card": 0, "ssn": 0, "phone": 0}


def test_redaction_that_equalises_pair_drops_it(build, make_reviewed):
    make_reviewed(Review.Verdict.NEEDS_FIX, response={"role": "assistant", "content": "Mail a@example.com."},
                  corrected_response="Mail b@example.com.")

    job = build(options={"redact_pii": True})

    assert job.counts["rows"] == {"sft": 1, "dpo": 0}
    assert job.counts["dpo_pairs_dropped_identical"] == 1


def test_invalid_rows_are_left_out_and_reported(build, make_reviewed):
    response = {"role": "assistant", "content": "", "tool_calls": [
        {"id": "call_7", "type": "function", "function": {"name": "get_order", "arguments": "[42]"}}]}
    broken = make_reviewed(Review.Verdict.APPROVED, response=response)
    make_reviewed(Review.Verdict.APPROVED, conversation=[{"role": "user", "content": "Other?"}])

    job = build(kind="all")

    members = bundle_members(job)
    assert job.counts["rows_invalid"] == 3
    assert job.counts["rows"] == {"sft": 1, "dpo": 0, "kto": 1, "sft_messages": 1}
    assert job.manifest["invalid_rows"][0] == {
        "file": "sft.jsonl", "example_id": f"item-{broken.pk}", "item_id": broken.pk,
        "reason": "tool call 0 of message 0 of completion has arguments [42]; "
                  "this file gives arguments as JSON objects",
    }
    assert [entry["file"] for entry in job.manifest["invalid_rows"]] == ["sft.jsonl", "kto.jsonl",
                                                                         "sft_messages.jsonl"]
    for name in ("sft.jsonl", "kto.jsonl", "sft_messages.jsonl", "meta/examples.jsonl"):
        assert f'"example_id": "item-{broken.pk}"' not in members[name].decode()
        assert f'"meta_example_id": "item-{broken.pk}"' not in members[name].decode()


def test_openai_rows_with_bad_tool_name_are_reported(build, make_reviewed):
    response = {"role": "assistant", "content": "", "tool_calls": [
        {"id": "call_7", "type": "function", "function": {"name": "get order", "arguments": "{}"}}]}
    make_reviewed(Review.Verdict.APPROVED, response=response)

    job = build(export_format="openai")

    assert job.counts["rows_invalid"] == 1
    assert job.counts["rows"] == {"sft": 0, "dpo": 0}
    assert "has function name 'get order'" in job.manifest["invalid_rows"][0]["reason"]


def test_split_writes_train_and_validation_files(build, make_reviewed):
    for number in range(20):
        make_reviewed(Review.Verdict.APPROVED, conversation=[{"role": "user", "content": f"Question {number}?"}])

    job = build(kind="sft", options={"validation_ratio": 0.3})

    members = bundle_members(job)
    train, validation = jsonl_rows(members["sft.train.jsonl"]), jsonl_rows(members["sft.validation.jsonl"])
    assert "sft.jsonl" not in members
    assert len(train) + len(validation) == 20
    assert 0 < len(validation) < 20
    assert job.manifest["split"] == {
        "validation_ratio": 0.3, "rows": {"sft": {"train": len(train), "validation": len(validation)}},
    }


def _sides(job) -> dict[int, str]:
    provenance = jsonl_rows(bundle_members(job)["meta/examples.jsonl"])
    return {entry["item_id"]: entry["split"] for entry in provenance}


def test_split_keeps_one_conversation_on_one_side(build, make_reviewed):
    items = []
    for number in range(10):
        opening = [{"role": "user", "content": f"Question {number}?"}]
        items.append(make_reviewed(Review.Verdict.APPROVED, conversation=opening))
        follow_up = [*opening, {"role": "assistant", "content": "Which model?"}, {"role": "user", "content": "X1."}]
        items.append(make_reviewed(Review.Verdict.APPROVED, conversation=follow_up))

    sides = _sides(build(kind="sft", options={"validation_ratio": 0.5}))

    for first, second in zip(items[::2], items[1::2]):
        assert sides[first.pk] == sides[second.pk]
    assert set(sides.values()) == {"train", "validation"}


def test_reexport_keeps_rows_on_their_side(build, make_reviewed):
    for number in range(10):
        make_reviewed(Review.Verdict.APPROVED, conversation=[{"role": "user", "content": f"Question {number}?"}])
    before = _sides(build(kind="sft", options={"validation_ratio": 0.4}))
    for number in range(10, 20):
        make_reviewed(Review.Verdict.APPROVED, conversation=[{"role": "user", "content": f"Question {number}?"}])

    after = _sides(build(kind="sft", options={"validation_ratio": 0.4}))

    assert {item_id: after[item_id] for item_id in before} == before
