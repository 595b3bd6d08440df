import pytest
from django.core.exceptions import ValidationError

from bookbag.audit.models import AuditEvent
from bookbag.errors import Conflict, NotFound, PermissionDenied
from exports.models import ExportJob
from exports.services import export_request
from reviews.models import QueueMembership
from tests.factories import ManagerFactory, MembershipFactory, QueueFactory

pytestmark = pytest.mark.django_db


def _request(requester, filters=None, **options):
    return export_request(
        requester=requester,
        kind=options.pop("kind", "both"),
        format=options.pop("format", "trl"),
        filters=filters,
        enqueue=options.pop("enqueue", False),
        **options,
    )


def test_request_records_queued_job(manager, queue):
    job = _request(manager, {"queues": [queue.slug]})

    assert job.state == ExportJob.State.QUEUED
    assert job.requester == manager
    assert list(job.queues.all()) == [queue]
    expected = {
        "queues": [queue.slug], "verdicts": [], "reviewers": [], "rubric_versions": [],
        "reviewed_after": None, "reviewed_before": None, "since_export": None,
        "sources": [], "models": [], "agreed_or_adjudicated": False,
    }
    assert {key: job.filters[key] for key in expected} == expected
    assert job.options == {"tool_arguments": "object", "validation_ratio": 0.0, "redact_pii": False}


def test_request_writes_audit_event(manager, queue):
    job = _request(manager, {"queues": [queue.slug]})

    event = AuditEvent.objects.get(action="export.request", object_id=str(job.pk))
    assert event.actor == manager
    assert event.after["kind"] == "both"


def test_request_without_queues_covers_managed_queues(manager, queue):
    other = QueueFactory(slug="billing")
    MembershipFactory(queue=other, user=manager, role=QueueMembership.Role.MANAGER)
    QueueFactory(slug="not-mine")

    job = _request(manager)

    assert job.filters["queues"] == sorted([queue.slug, "billing"])


def test_request_by_reviewer_is_denied(reviewer, queue):
    with pytest.raises(PermissionDenied) as error:
        _request(reviewer, {"queues": [queue.slug]})

    assert error.value.message == (
        "User 'reviewer' is not a manager, so they cannot request exports; ask a manager to export, "
        "or an admin to give 'reviewer' the manage_workspace permission."
    )


def test_unmanaged_queue_is_not_found(manager):
    foreign = QueueFactory(slug="foreign")

    with pytest.raises(NotFound) as error:
        _request(manager, {"queues": [foreign.slug]})

    assert "'foreign'" in error.value.message


def test_reviewer_role_in_queue_does_not_manage_it(manager):
    staffed = QueueFactory(slug="staffed")
    MembershipFactory(queue=staffed, user=manager, role=QueueMembership.Role.REVIEWER)

    with pytest.raises(NotFound):
        _request(manager, {"queues": ["staffed"]})


def test_manager_of_no_queue_is_told(db):
    lonely = ManagerFactory(username="lonely")

    with pytest.raises(ValidationError) as error:
        _request(lonely)

    assert error.value.message_dict["queues"] == ["You manage no queues, so there is nothing to export."]


def test_idempotency_key_returns_same_job(manager, queue):
    first = _request(manager, {"queues": [queue.slug]}, idempotency_key="nightly-1")
    again = _request(manager, {"queues": [queue.slug]}, idempotency_key="nightly-1")

    assert again.pk == first.pk
    assert ExportJob.objects.count() == 1


def test_idempotency_key_is_per_requester(manager, queue):
    other = ManagerFactory(username="other-manager")
    MembershipFactory(queue=queue, user=other, role=QueueMembership.Role.MANAGER)

    first = _request(manager, {"queues": [queue.slug]}, idempotency_key="nightly-1")
    second = _request(other, {"queues": [queue.slug]}, idempotency_key="nightly-1")

    assert second.pk != first.pk


def test_idempotency_key_with_other_parameters_conflicts(manager, queue):
    first = _request(manager, {"queues": [queue.slug]}, idempotency_key="nightly-1")

    with pytest.raises(Conflict) as error:
        _request(manager, {"queues": [queue.slug]}, idempotency_key="nightly-1", kind="sft")

    assert error.value.code == "idempotency_key_reused"
    assert f"export {first.pk}" in error.value.message


def test_request_enqueues_build_after_commit(manager, queue, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        job = _request(manager, {"queues": [queue.slug]}, enqueue=True)

    assert len(callbacks) == 1
    job.refresh_from_db()
    assert job.state == ExportJob.State.SUCCEEDED


def test_request_without_enqueue_leaves_job_queued(manager, queue, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        job = _request(manager, {"queues": [queue.slug]})

    assert callbacks == []
    job.refresh_from_db()
    assert job.state == ExportJob.State.QUEUED


INVALID_FILTERS = [
    ("not an object", ["support"], "filters", "Filters must be an object"),
    ("unknown key", {"queue": ["x"]}, "filters", "Unknown filter 'queue'"),
    ("queues not strings", {"queues": [1]}, "queues", "must be a list of non-empty strings"),
    ("unknown verdict", {"verdicts": ["good"]}, "verdicts", "Unknown verdict 'good'"),
    ("unknown reviewer", {"reviewers": ["ghost"]}, "reviewers", "Reviewer 'ghost' not found"),
    ("rubric version without @", {"rubric_versions": ["helpfulness"]}, "rubric_versions", "write it as slug@version"),
    ("missing rubric version", {"rubric_versions": ["helpfulness@9"]}, "rubric_versions", "'helpfulness@9' not found"),
    ("bad date", {"reviewed_after": "yesterday"}, "reviewed_after", "use an ISO 8601 date"),
    ("impossible date", {"reviewed_after": "2026-02-30"}, "reviewed_after", "use an ISO 8601 date"),
    ("date before year 1 in UTC", {"reviewed_before": "0001-01-01T00:00:00+05:00"}, "reviewed_before",
     "use a time between the years 1 and 9999 in UTC"),
    ("reversed window", {"reviewed_after": "2026-05-02", "reviewed_before": "2026-05-01"}, "reviewed_before",
     "must be later than reviewed_after"),
    ("since_export not an id", {"since_export": "last"}, "since_export", "must be an export job id"),
    ("sources not strings", {"sources": [7]}, "sources", "sources must be a list of non-empty strings"),
    ("models not a list", {"models": {"a": 1}}, "models", "models must be a list of non-empty strings"),
    ("agreement flag as text", {"agreed_or_adjudicated": "yes"}, "agreed_or_adjudicated",
     "agreed_or_adjudicated must be true or false, not 'yes'."),
]


@pytest.mark.parametrize(
    ("filters", "field", "message"), [case[1:] for case in INVALID_FILTERS], ids=[case[0] for case in INVALID_FILTERS]
)
def test_invalid_filters_are_rejected(manager, queue, filters, field, message):
    with pytest.raises(ValidationError) as error:
        _request(manager, filters)

    assert message in error.value.message_dict[field][0]
    assert ExportJob.objects.count() == 0


def test_every_invalid_filter_is_listed(manager, queue):
    filters = {"verdicts": ["good"], "reviewers": ["ghost"], "agreed_or_adjudicated": "yes", "sources": [7]}

    with pytest.raises(ValidationError) as error:
        _request(manager, filters)

    assert sorted(error.value.message_dict) == ["agreed_or_adjudicated", "reviewers", "sources", "verdicts"]
    assert ExportJob.objects.count() == 0


def test_invalid_option_and_filter_are_listed(manager, queue):
    with pytest.raises(ValidationError) as error:
        _request(manager, {"queues": [queue.slug], "verdicts": ["good"]}, options={"validation_ratio": 1})

    assert sorted(error.value.message_dict) == ["validation_ratio", "verdicts"]


def test_unknown_kind_is_rejected(manager, queue):
    with pytest.raises(ValidationError) as error:
        _request(manager, {"queues": [queue.slug]}, kind="rlhf")

    assert error.value.message_dict["kind"] == [
        "Unknown export kind 'rlhf'; choose one of all, both, sft, dpo, kto, sft_messages."
    ]


def test_unknown_format_is_rejected(manager, queue):
    with pytest.raises(ValidationError) as error:
        _request(manager, {"queues": [queue.slug]}, format="alpaca")

    assert "Unknown export format 'alpaca'" in error.value.messages[0]


def test_since_export_of_another_user_is_not_found(manager, queue):
    other = ManagerFactory(username="other-manager")
    MembershipFactory(queue=queue, user=other, role=QueueMembership.Role.MANAGER)
    theirs = _request(other, {"queues": [queue.slug]})

    with pytest.raises(NotFound):
        _request(manager, {"queues": [queue.slug], "since_export": theirs.pk})


def test_dates_are_stored_as_utc_iso(manager, queue):
    job = _request(manager, {"queues": [queue.slug], "reviewed_after": "2026-05-01",
                             "reviewed_before": "2026-05-02T12:00:00+02:00"})

    assert job.filters["reviewed_after"] == "2026-05-01T00:00:00+00:00"
    assert job.filters["reviewed_before"] == "2026-05-02T10:00:00+00:00"


def test_unreachable_broker_fails_job(manager, queue, monkeypatch, django_capture_on_commit_callbacks):
    from kombu.exceptions import OperationalError

    from exports.tasks import build_export

    def refuse(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    # The broker is the network boundary: sending the task is what fails.
    monkeypatch.setattr(build_export, "delay", refuse)
    with django_capture_on_commit_callbacks(execute=True):
        job = export_request(requester=manager, kind="both", format="trl", filters={"queues": [queue.slug]})

    job.refresh_from_db()
    assert job.state == ExportJob.State.FAILED
    assert job.error == "The task broker could not be reached, so the build never started; request the export again."
    assert AuditEvent.objects.filter(action="export.fail", object_id=str(job.pk)).exists()


def test_request_stores_options(manager, queue):
    job = _request(manager, {"queues": [queue.slug]}, kind="kto",
                   options={"validation_ratio": 0.25, "redact_pii": True, "tool_arguments": "string"})

    assert job.kind == "kto"
    assert job.options == {"tool_arguments": "string", "validation_ratio": 0.25, "redact_pii": True}


def test_request_stores_new_filters(manager, queue):
    job = _request(manager, {"queues": [queue.slug], "sources": ["bot-b", "bot-a"], "models": ["acme-7b"],
                             "agreed_or_adjudicated": True})

    assert job.filters["sources"] == ["bot-a", "bot-b"]
    assert job.filters["models"] == ["acme-7b"]
    assert job.filters["agreed_or_adjudicated"] is True


def test_invalid_option_is_rejected(manager, queue):
    with pytest.raises(ValidationError) as error:
        _request(manager, {"queues": [queue.slug]}, format="openai", options={"tool_arguments": "object"})

    assert error.value.message_dict["tool_arguments"] == [
        "tool_arguments 'object' is not available in format 'openai'; choose string."
    ]
    assert ExportJob.objects.count() == 0


def test_kind_missing_from_format_is_rejected(manager, queue):
    with pytest.raises(ValidationError) as error:
        _request(manager, {"queues": [queue.slug]}, kind="kto", format="openai")

    assert error.value.message_dict["kind"] == [
        "Format 'openai' has no 'kto' file; choose one of all, both, sft, dpo, or another format."
    ]


def test_idempotency_key_with_other_options_conflicts(manager, queue):
    _request(manager, {"queues": [queue.slug]}, idempotency_key="nightly-1")

    with pytest.raises(Conflict):
        _request(manager, {"queues": [queue.slug]}, idempotency_key="nightly-1", options={"redact_pii": True})


def test_idempotency_key_matches_explicit_defaults(manager, queue):
    first = _request(manager, {"queues": [queue.slug]}, idempotency_key="nightly-1")

    again = _request(manager, {"queues": [queue.slug]}, idempotency_key="nightly-1",
                     options={"tool_arguments": "object", "validation_ratio": 0, "redact_pii": False})

    assert again.pk == first.pk


def test_since_export_must_have_succeeded(manager, queue):
    earlier = _request(manager, {"queues": [queue.slug]})

    with pytest.raises(ValidationError) as error:
        _request(manager, {"queues": [queue.slug], "since_export": earlier.pk})

    assert error.value.message_dict["since_export"] == [
        f"Export {earlier.pk} is queued; since_export needs a succeeded export, because the new bundle "
        "starts where that one's selection ended."
    ]
