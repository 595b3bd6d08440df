import hashlib
import json
import subprocess

import jsonschema
import pytest

from exports import manifest as manifest_module
from exports.manifest import MANIFEST_SCHEMA_PATH, code_version
from reviews.models import Review
from tests.exports.conftest import bundle_members

SCHEMA = json.loads(MANIFEST_SCHEMA_PATH.read_text())
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA, format_checker=jsonschema.FormatChecker())


def _manifest(job) -> dict:
    return json.loads(bundle_members(job)["manifest.json"])


def test_schema_is_valid_json_schema():
    jsonschema.Draft202012Validator.check_schema(SCHEMA)


def test_code_version_names_git_commit():
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=manifest_module.SOURCE_DIR, capture_output=True,
                          text=True, check=True).stdout.strip()

    assert code_version()["git_commit"] == head


def test_environment_names_commit(monkeypatch):
    monkeypatch.setenv("BOOKBAG_GIT_COMMIT", "0123456789abcdef0123456789abcdef01234567")

    assert code_version()["git_commit"] == "0123456789abcdef0123456789abcdef01234567"


def test_commit_is_none_without_git(monkeypatch, tmp_path):
    monkeypatch.delenv("BOOKBAG_GIT_COMMIT", raising=False)
    monkeypatch.setattr(manifest_module, "SOURCE_DIR", tmp_path)

    assert code_version()["git_commit"] is None


def test_commit_is_read_from_packed_refs(monkeypatch, tmp_path):
    commit = "a" * 40
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    (tmp_path / ".git" / "packed-refs").write_text(f"# pack-refs with: peeled\n{commit} refs/heads/main\n")
    monkeypatch.delenv("BOOKBAG_GIT_COMMIT", raising=False)
    monkeypatch.setattr(manifest_module, "SOURCE_DIR", tmp_path)

    assert code_version()["git_commit"] == commit


def test_detached_head_is_read(monkeypatch, tmp_path):
    commit = "b" * 40
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "HEAD").write_text(commit + "\n")
    monkeypatch.delenv("BOOKBAG_GIT_COMMIT", raising=False)
    monkeypatch.setattr(manifest_module, "SOURCE_DIR", tmp_path)

    assert code_version()["git_commit"] == commit


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("kind", "export_format", "options"),
    [
        ("both", "trl", None),
        ("all", "trl", {"validation_ratio": 0.5, "redact_pii": True, "tool_arguments": "string"}),
        ("all", "openai", {"validation_ratio": 0.3}),
        ("kto", "trl", None),
    ],
)
def test_real_manifests_match_schema(build, mixed_items, kind, export_format, options):
    VALIDATOR.validate(_manifest(build(kind=kind, export_format=export_format, options=options)))


@pytest.mark.django_db
def test_manifest_with_parent_and_report_matches_schema(build, make_reviewed):
    make_reviewed(Review.Verdict.APPROVED)
    parent = build()
    make_reviewed(Review.Verdict.APPROVED, conversation=[{"role": "human", "content": "Hi"}])

    manifest = _manifest(build(filters={"queues": [parent.filters["queues"][0]], "since_export": parent.pk}))

    VALIDATOR.validate(manifest)
    assert manifest["parent_bundle"] == {
        "bundle_id": f"bookbag-export-{parent.pk}", "job_id": parent.pk, "sha256": parent.sha256,
    }
    assert len(manifest["skipped_items"]) == 1


@pytest.mark.django_db
def test_empty_bundle_manifest_matches_schema(build):
    VALIDATOR.validate(_manifest(build()))


@pytest.mark.django_db
def test_schema_rejects_unknown_key(build, mixed_items):
    manifest = _manifest(build())
    manifest["counts"]["surprise"] = 1

    with pytest.raises(jsonschema.ValidationError, match="surprise"):
        VALIDATOR.validate(manifest)


@pytest.mark.django_db
def test_manifest_lists_card_hash(build, mixed_items):
    members = bundle_members(build())
    card = members["README.md"]

    manifest = json.loads(members["manifest.json"])

    assert manifest["card"] == {
        "path": "README.md", "bytes": len(card), "sha256": hashlib.sha256(card).hexdigest(),
    }


@pytest.mark.django_db
def test_schema_requires_card(build, mixed_items):
    manifest = _manifest(build())
    del manifest["card"]

    with pytest.raises(jsonschema.ValidationError, match="card"):
        VALIDATOR.validate(manifest)
