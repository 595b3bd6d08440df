import pytest
from django.core.management import call_command
from drf_spectacular.drainage import GENERATOR_STATS
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

OWN_PATHS = [
    "/api/v1/rubrics/",
    "/api/v1/rubrics/{id}/",
    "/api/v1/queues/",
    "/api/v1/queues/{id}/",
    "/api/v1/queues/{id}/claim/",
    "/api/v1/assignments/",
    "/api/v1/assignments/{id}/",
    "/api/v1/assignments/{id}/review/",
    "/api/v1/assignments/{id}/release/",
]
OWN_VIEWS = ("RubricViewSet", "QueueViewSet", "AssignmentViewSet")
ERROR_REF = {"$ref": "#/components/schemas/Error"}


@pytest.fixture
def schema():
    GENERATOR_STATS.reset()
    with GENERATOR_STATS.silence():
        response = APIClient().get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    return response.json()


def test_schema_lists_review_and_rubric_paths(schema):
    missing = [path for path in OWN_PATHS if path not in schema["paths"]]

    assert missing == []


def test_schema_documents_claim_responses(schema):
    responses = schema["paths"]["/api/v1/queues/{id}/claim/"]["post"]["responses"]

    assert set(responses) == {"200", "204", "400", "401", "403", "404", "409"}
    assert responses["200"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Assignment"}


def test_schema_documents_review_request(schema):
    operation = schema["paths"]["/api/v1/assignments/{id}/review/"]["post"]

    assert operation["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ReviewSubmit"
    }
    assert set(operation["responses"]) == {"201", "400", "401", "403", "404", "409", "415"}


def test_own_views_have_no_schema_warnings(schema):
    messages = [*GENERATOR_STATS._warn_cache, *GENERATOR_STATS._error_cache]

    assert [message for message in messages if any(view in message for view in OWN_VIEWS)] == []


def test_schema_validates_without_warnings(tmp_path):
    output = tmp_path / "schema.yaml"

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(output))

    assert output.read_text().startswith("openapi: 3.0.3")


def test_every_operation_documents_error_body(schema):
    missing = [
        f"{method.upper()} {path} {code}"
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
        for code, response in operation["responses"].items()
        if code[0] == "4" and response.get("content", {}).get("application/json", {}).get("schema") != ERROR_REF
    ]

    assert missing == []


def test_every_operation_documents_401_and_403(schema):
    missing = [
        f"{method.upper()} {path}"
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
        if not {"401", "403"} <= set(operation["responses"])
    ]

    assert missing == []


def test_error_component_has_code_message_errors(schema):
    error = schema["components"]["schemas"]["Error"]

    assert set(error["properties"]) == {"code", "message", "errors"}
    assert set(error["required"]) == {"code", "message", "errors"}
    assert error["properties"]["errors"]["additionalProperties"] == {"type": "array", "items": {"type": "string"}}


def test_throttled_operations_document_429_with_retry_after(schema):
    for path in ("/api/v1/items/", "/api/v1/exports/"):
        response = schema["paths"][path]["post"]["responses"]["429"]
        assert response["headers"]["Retry-After"]["schema"] == {"type": "integer"}, path


def test_reads_are_not_documented_as_throttled(schema):
    assert "429" not in schema["paths"]["/api/v1/items/"]["get"]["responses"]


def test_token_auth_scheme(schema):
    scheme = schema["components"]["securitySchemes"]["tokenAuth"]

    assert scheme["type"] == "apiKey"
    assert scheme["in"] == "header"
    assert scheme["name"] == "Authorization"
    assert "Authorization: Token <key>" in scheme["description"]


def test_operations_accept_token_auth(schema):
    missing = [
        f"{method.upper()} {path}"
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
        if {"tokenAuth": []} not in operation.get("security", [])
    ]

    assert missing == []


def test_export_list_documents_admin_filters(schema):
    parameters = {parameter["name"] for parameter in schema["paths"]["/api/v1/exports/"]["get"]["parameters"]}

    assert {"state", "kind", "format", "cursor", "page_size"} <= parameters
