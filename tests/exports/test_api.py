import hashlib
import io
import json
import zipfile

import pytest
from drf_spectacular.drainage import GENERATOR_STATS
from rest_framework.test import APIClient

from bookbag.audit.models import AuditEvent
from bookbag.tokens.services import token_create
from exports.models import ExportJob
from tests.factories import ManagerFactory, QueueFactory

pytestmark = pytest.mark.django_db

EXPORTS_URL = "/api/v1/exports/"


def _client(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def _create(client, django_capture_on_commit_callbacks, payload):
    with django_capture_on_commit_callbacks(execute=True):
        return client.post(EXPORTS_URL, payload, format="json")


def _queued_job(manager, queue) -> ExportJob:
    return ExportJob.objects.create(requester=manager, filters={"queues": [queue.slug]})


def test_create_returns_202_with_job(manager, queue, django_capture_on_commit_callbacks):
    response = _create(_client(manager), django_capture_on_commit_callbacks,
                       {"kind": "sft", "format": "openai", "filters": {"queues": [queue.slug]}})

    assert response.status_code == 202
    body = response.json()
    job = ExportJob.objects.get(pk=body["id"])
    assert job.requester == manager
    assert (body["kind"], body["format"]) == ("sft", "openai")
    assert body["filters"]["queues"] == [queue.slug]


def test_created_job_is_built_eagerly(manager, queue, mixed_items, django_capture_on_commit_callbacks):
    client = _client(manager)
    created = _create(client, django_capture_on_commit_callbacks, {"filters": {"queues": [queue.slug]}}).json()

    body = client.get(f"{EXPORTS_URL}{created['id']}/").json()

    assert body["state"] == "succeeded"
    assert body["progress"] == 1.0
    assert body["counts"]["rows"] == {"sft": 3, "dpo": 2}
    assert body["download_url"] == f"http://testserver/api/v1/exports/{created['id']}/download/"


def test_status_shows_job(manager, queue, mixed_items, django_capture_on_commit_callbacks):
    client = _client(manager)
    created = _create(client, django_capture_on_commit_callbacks, {"filters": {"queues": [queue.slug]}}).json()

    response = client.get(f"{EXPORTS_URL}{created['id']}/")

    assert response.status_code == 200
    body = response.json()
    assert {"id", "state", "progress", "counts", "error"} <= set(body)
    assert body["kind"] == "both"
    assert body["format"] == "trl"
    assert body["error"] == ""
    assert body["sha256"] == ExportJob.objects.get(pk=created["id"]).sha256


def test_download_returns_zip(manager, queue, mixed_items, django_capture_on_commit_callbacks):
    client = _client(manager)
    created = _create(client, django_capture_on_commit_callbacks, {"filters": {"queues": [queue.slug]}}).json()

    status = client.get(f"{EXPORTS_URL}{created['id']}/").json()
    response = client.get(f"{EXPORTS_URL}{created['id']}/download/")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"] == f'attachment; filename="bookbag-export-{created["id"]}.zip"'
    data = b"".join(response.streaming_content)
    assert hashlib.sha256(data).hexdigest() == status["sha256"]
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        manifest = json.loads(archive.read("manifest.json"))
        for entry in manifest["files"]:
            assert hashlib.sha256(archive.read(entry["path"])).hexdigest() == entry["sha256"]


def test_download_writes_audit_event(manager, queue, mixed_items, django_capture_on_commit_callbacks):
    client = _client(manager)
    created = _create(client, django_capture_on_commit_callbacks, {"filters": {"queues": [queue.slug]}}).json()

    client.get(f"{EXPORTS_URL}{created['id']}/download/")

    event = AuditEvent.objects.get(action="export.download", object_id=str(created["id"]))
    assert event.actor == manager
    assert event.channel == "api"


def test_download_before_success_is_409(manager, queue):
    job = _queued_job(manager, queue)

    response = _client(manager).get(f"{EXPORTS_URL}{job.pk}/download/")

    assert response.status_code == 409
    assert response.json()["code"] == "export_not_ready"
    assert response.json()["message"] == f"Export {job.pk} is queued; download it once its state is succeeded."


def test_download_of_failed_job_is_409(manager, queue):
    job = _queued_job(manager, queue)
    ExportJob.objects.filter(pk=job.pk).update(state=ExportJob.State.FAILED, error="Disk full.")

    response = _client(manager).get(f"{EXPORTS_URL}{job.pk}/download/")

    assert response.status_code == 409
    assert response.json()["code"] == "export_failed"
    assert "Disk full." in response.json()["message"]


def test_download_accepting_only_zip_still_answers(manager, queue):
    job = _queued_job(manager, queue)

    response = _client(manager).get(f"{EXPORTS_URL}{job.pk}/download/", HTTP_ACCEPT="application/zip")

    assert response.status_code == 409
    assert response.json()["code"] == "export_not_ready"


def test_idempotency_key_returns_same_job(manager, queue, django_capture_on_commit_callbacks):
    client = _client(manager)
    payload = {"filters": {"queues": [queue.slug]}, "idempotency_key": "nightly-2026-05-01"}

    first = _create(client, django_capture_on_commit_callbacks, payload)
    second = _create(client, django_capture_on_commit_callbacks, payload)

    assert first.status_code == second.status_code == 202
    assert first.json()["id"] == second.json()["id"]
    assert ExportJob.objects.count() == 1


def test_reviewer_cannot_create(reviewer, queue, django_capture_on_commit_callbacks):
    response = _create(_client(reviewer), django_capture_on_commit_callbacks, {"filters": {"queues": [queue.slug]}})

    assert response.status_code == 403
    assert ExportJob.objects.count() == 0


def test_reviewer_cannot_list(reviewer):
    assert _client(reviewer).get(EXPORTS_URL).status_code == 403


def test_token_without_export_scope_is_403(manager, queue, django_capture_on_commit_callbacks):
    _, key = token_create(user=manager, scopes=["read"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")

    response = _create(client, django_capture_on_commit_callbacks, {"filters": {"queues": [queue.slug]}})

    assert response.status_code == 403
    assert "--scope export" in response.json()["message"]


def test_token_with_export_scope_creates(manager, queue, django_capture_on_commit_callbacks):
    _, key = token_create(user=manager, scopes=["export"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")

    response = _create(client, django_capture_on_commit_callbacks, {"filters": {"queues": [queue.slug]}})

    assert response.status_code == 202


def test_other_users_job_is_404(manager, queue):
    other = ManagerFactory(username="other-manager")
    job = _queued_job(other, queue)
    client = _client(manager)

    assert client.get(f"{EXPORTS_URL}{job.pk}/").status_code == 404
    assert client.get(f"{EXPORTS_URL}{job.pk}/download/").status_code == 404


def test_unmanaged_queue_slug_is_404(manager, queue, django_capture_on_commit_callbacks):
    QueueFactory(slug="foreign")

    response = _create(_client(manager), django_capture_on_commit_callbacks,
                       {"filters": {"queues": [queue.slug, "foreign"]}})

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert "'foreign'" in response.json()["message"]


def test_list_shows_own_jobs(manager, queue):
    mine = _queued_job(manager, queue)
    _queued_job(ManagerFactory(username="other-manager"), queue)

    response = _client(manager).get(EXPORTS_URL)

    assert response.status_code == 200
    assert [job["id"] for job in response.json()["results"]] == [mine.pk]


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"kind": "rlhf"}, "kind"),
        ({"format": "alpaca"}, "format"),
        ({"filters": "support"}, "filters"),
        ({"filters": {"verdicts": ["great"]}}, "verdicts"),
        ({"idempotency_key": "k" * 201}, "idempotency_key"),
        ({"validation_ratio": 1.5}, "validation_ratio"),
        ({"validation_ratio": "lots"}, "validation_ratio"),
        ({"tool_arguments": "yaml"}, "tool_arguments"),
        ({"format": "openai", "tool_arguments": "object"}, "tool_arguments"),
        ({"format": "openai", "kind": "kto"}, "kind"),
        ({"filters": {"agreed_or_adjudicated": "yes"}}, "agreed_or_adjudicated"),
        ({"filters": {"verdicts": "approved"}}, "verdicts"),
        ({"filters": {"queues": "support"}}, "queues"),
        ({"redact_pii": "yes"}, "redact_pii"),
        ({"redact_pii": 1}, "redact_pii"),
    ],
)
def test_invalid_payload_is_400(manager, queue, django_capture_on_commit_callbacks, payload, field):
    response = _create(_client(manager), django_capture_on_commit_callbacks, payload)

    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert ExportJob.objects.count() == 0


def test_invalid_filters_and_option_in_one_400(manager, queue, django_capture_on_commit_callbacks):
    response = _create(_client(manager), django_capture_on_commit_callbacks, {
        "filters": {"queues": [queue.slug], "verdicts": ["great"], "reviewers": ["ghost"]}, "validation_ratio": 1,
    })

    assert response.status_code == 400
    assert sorted(response.json()["errors"]) == ["reviewers", "validation_ratio", "verdicts"]
    assert ExportJob.objects.count() == 0


def test_create_takes_file_options(manager, queue, django_capture_on_commit_callbacks):
    response = _create(_client(manager), django_capture_on_commit_callbacks, {
        "kind": "all", "format": "trl", "filters": {"queues": [queue.slug], "sources": ["tests"]},
        "validation_ratio": 0.2, "redact_pii": True, "tool_arguments": "string",
    })

    assert response.status_code == 202
    body = response.json()
    assert body["kind"] == "all"
    assert body["options"] == {"tool_arguments": "string", "validation_ratio": 0.2, "redact_pii": True}
    assert body["filters"]["sources"] == ["tests"]


def test_status_shows_report(manager, queue, make_reviewed, django_capture_on_commit_callbacks):
    broken = make_reviewed("approved", conversation=[{"role": "human", "content": "Hi"}])
    tool_reply = {"role": "assistant", "content": "", "tool_calls": [
        {"id": "call_7", "type": "function", "function": {"name": "get_order", "arguments": "[42]"}}]}
    invalid = make_reviewed("approved", response=tool_reply)
    client = _client(manager)
    created = _create(client, django_capture_on_commit_callbacks, {"kind": "sft", "filters": {"queues": [queue.slug]}})

    body = client.get(f"{EXPORTS_URL}{created.json()['id']}/").json()

    assert body["report"]["skipped_items"] == [{
        "item_id": broken.pk, "reason": "message 0 has role 'human'; expected one of system, user, assistant, tool",
    }]
    assert [(row["item_id"], row["file"]) for row in body["report"]["invalid_rows"]] == [(invalid.pk, "sft.jsonl")]
    assert body["report"]["invalid_rows"][0]["reason"] == (
        "tool call 0 of message 0 of completion has arguments [42]; this file gives arguments as JSON objects"
    )
    assert body["counts"]["rows_invalid"] == 1


def test_queued_job_has_no_report(manager, queue):
    body = _client(manager).get(f"{EXPORTS_URL}{_queued_job(manager, queue).pk}/").json()

    assert body["report"] is None


def test_anonymous_is_rejected(db):
    assert APIClient().get(EXPORTS_URL).status_code in (401, 403)


@pytest.fixture
def schema():
    GENERATOR_STATS.reset()
    with GENERATOR_STATS.silence():
        response = APIClient().get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    return response.json()


def test_schema_documents_create_as_202(schema):
    operation = schema["paths"]["/api/v1/exports/"]["post"]

    assert set(operation["responses"]) == {"202", "400", "401", "403", "404", "409", "415", "429"}
    assert operation["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ExportRequest"
    }


def test_schema_documents_download_as_zip(schema):
    responses = schema["paths"]["/api/v1/exports/{id}/download/"]["get"]["responses"]

    assert set(responses) == {"200", "401", "403", "404", "409"}
    assert "application/zip" in responses["200"]["content"]
    assert responses["409"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}


def test_export_views_have_no_schema_warnings(schema):
    messages = [*GENERATOR_STATS._warn_cache, *GENERATOR_STATS._error_cache]

    assert [message for message in messages if "ExportJobViewSet" in message] == []


def test_schema_documents_kinds_and_options(schema):
    components = schema["components"]["schemas"]
    request = components["ExportRequest"]["properties"]

    def enum(prop):
        reference = next(entry["$ref"] for entry in prop.get("allOf", prop.get("oneOf", [])) if "$ref" in entry)
        return set(components[reference.rsplit("/", 1)[1]]["enum"])

    assert enum(request["kind"]) == {"all", "both", "sft", "dpo", "kto", "sft_messages"}
    assert request["validation_ratio"]["type"] == "number"
    assert request["redact_pii"]["type"] == "boolean"
    assert enum(request["tool_arguments"]) == {"object", "string"}
    assert "report" in schema["components"]["schemas"]["ExportJob"]["properties"]
