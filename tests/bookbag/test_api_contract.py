"""Schemathesis against the live OpenAPI schema: no 5xx, and every response matches the schema.

The app runs on 127.0.0.1 (pytest-django's ``live_server``). Schemathesis
loads ``/api/schema/`` from it and sends a bounded number of generated
requests per operation, derandomized so that every run sends the same
ones, authenticated as a manager whose token has every scope. Each
operation with an ``{id}`` runs twice: with generated ids (mostly 404s)
and with the id of a real row, so that the success paths run too.

The test drives Hypothesis itself instead of through ``schemathesis.pytest``,
whose lazy loader reads ``Function._nodeid``, which pytest 9.2 no longer has.
"""

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from bookbag.audit.services import audit_record
from bookbag.tokens.services import token_create
from exports.models import ExportJob
from exports.webhooks.endpoints import webhook_endpoint_create
from reviews.models import QueueMembership
from tests.factories import (
    AssignmentFactory,
    ManagerFactory,
    MembershipFactory,
    QueueFactory,
    ReviewFactory,
    ReviewItemFactory,
    UserFactory,
)

pytestmark = pytest.mark.contract

EXAMPLES_PER_OPERATION = 10
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
RUN_SETTINGS = settings(
    max_examples=EXAMPLES_PER_OPERATION,
    derandomize=True,
    deadline=None,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)


@pytest.fixture
def world(settings, tmp_path) -> dict:
    """Create a manager's queue, items, assignment, export and webhook; return the token key and real ids."""
    settings.MEDIA_ROOT = tmp_path / "media"
    # Throttling would turn most generated ingest and export requests into 429s.
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"ingest": None, "export": None}}

    manager = ManagerFactory(username="contract-manager")
    queue = QueueFactory(slug="contract")
    MembershipFactory(queue=queue, user=manager, role=QueueMembership.Role.MANAGER)
    MembershipFactory(queue=queue, user=UserFactory(username="contract-reviewer"))
    items = ReviewItemFactory.create_batch(3, queue=queue)
    assignment = AssignmentFactory(item=items[0], reviewer=manager)
    review = ReviewFactory(item=items[2], reviewer=manager)
    event = audit_record(actor=manager, action="queue.update", instance=queue, after={"name": queue.name})
    job = ExportJob.objects.create(requester=manager, filters={"queues": [queue.slug]})
    endpoint = webhook_endpoint_create(actor=manager, url="http://127.0.0.1:9/hook", events=["export.failed"])
    return {
        "key": token_create(user=manager)[1],
        "ids": {
            "/api/v1/queues/": queue.pk, "/api/v1/rubrics/": queue.rubric_id, "/api/v1/items/": items[1].pk,
            "/api/v1/assignments/": assignment.pk, "/api/v1/exports/": job.pk, "/api/v1/webhooks/": endpoint.pk,
            "/api/v1/reviews/": review.pk,
            "/api/v1/audit/": event.pk,
        },
    }


def strategies(operation, ids: dict) -> list:
    """Return the case strategies of ``operation``: valid and invalid input, and valid input on a real row."""
    modes = [GenerationMode.POSITIVE, GenerationMode.NEGATIVE]
    found = [operation.as_strategy(generation_mode=mode) for mode in modes]
    if "{id}" in operation.path:
        real_id = next(value for prefix, value in ids.items() if operation.path.startswith(prefix))
        found.append(operation.as_strategy(path_parameters={"id": real_id}))
    return found


def run_operation(strategy, *, base_url: str, headers: dict) -> None:
    @given(case=strategy)
    @RUN_SETTINGS
    def run(case) -> None:
        case.call_and_validate(base_url=base_url, headers=headers, checks=CHECKS)

    run()


def test_api_conforms_to_schema(live_server, world):
    schema = schemathesis.openapi.from_url(f"{live_server.url}/api/schema/?format=json")
    headers = {"Authorization": f"Token {world['key']}"}
    failures = []
    operations = 0

    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        for strategy in strategies(operation, world["ids"]):
            try:
                run_operation(strategy, base_url=live_server.url, headers=headers)
            except Exception as error:  # noqa: BLE001 - every operation runs, then all failures are listed
                failures.append(f"{operation.label}: {error}")

    assert operations >= 30
    assert failures == [], "\n\n".join(failures)
