import pytest
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

    assert set(responses) == {"200", "204"}
    assert responses["200"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Assignment"}


def test_schema_documents_review_request(schema):
    operation = schema["paths"]["/api/v1/assignments/{id}/review/"]["post"]

    assert operation["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ReviewSubmit"
    }
    assert set(operation["responses"]) == {"201"}


def test_own_views_have_no_schema_warnings(schema):
    messages = [*GENERATOR_STATS._warn_cache, *GENERATOR_STATS._error_cache]

    assert [message for message in messages if any(view in message for view in OWN_VIEWS)] == []
