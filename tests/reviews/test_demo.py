import io

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command

from exports.models import ExportJob
from reviews.models import Queue, Review, ReviewItem

pytestmark = pytest.mark.django_db(transaction=True)


def _run_demo() -> str:
    out = io.StringIO()
    call_command("demo", no_serve=True, stdout=out)
    return out.getvalue()


def _password(output: str, username: str) -> str:
    line = next(line for line in output.splitlines() if line.strip().startswith(username + " "))
    return line.split()[1]


def test_demo_imports_bundled_sample():
    _run_demo()

    assert ReviewItem.objects.filter(queue__slug="demo-helpfulness").count() == 150
    assert ReviewItem.objects.filter(queue__slug="demo-airline").count() == 12


def test_demo_prints_working_passwords():
    output = _run_demo()

    for username in ("admin", "manager", "lead", "reviewer1", "reviewer2"):
        assert authenticate(username=username, password=_password(output, username)) is not None


def test_demo_builds_first_bundle():
    _run_demo()

    job = ExportJob.objects.get()
    assert job.state == ExportJob.State.SUCCEEDED
    assert job.counts["verdicts"] == {"approved": 2, "needs_fix": 5, "rejected": 1}
    assert job.counts["rows"] == {"sft": 7, "dpo": 5}


def test_demo_prints_bundle_counts_readably():
    output = _run_demo()

    job = ExportJob.objects.get()
    assert f"Export bundle {job.pk}:\n" in output
    assert "  Items: 8 (approved 2, needs_fix 5, rejected 1)\n" in output
    assert "  sft rows: 7 (0 duplicates removed)\n" in output
    assert "  dpo rows: 5 (0 duplicates removed)\n" in output
    assert "{'items'" not in output


def test_demo_rerun_adds_nothing():
    _run_demo()

    output = _run_demo()

    assert ReviewItem.objects.count() == 162
    assert Review.objects.count() == 8
    assert ExportJob.objects.count() == 1
    assert Queue.objects.count() == 2
    assert "Sample reviews made now: 0" in output


def test_demo_gives_reviewer1_a_queue_to_review():
    _run_demo()

    queues = Queue.objects.filter(memberships__user__username="reviewer1")
    assert {queue.slug for queue in queues} == {"demo-helpfulness", "demo-airline"}
    assert ReviewItem.objects.filter(queue__slug="demo-helpfulness", state=ReviewItem.State.PENDING).count() == 142
