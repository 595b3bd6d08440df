"""The demo workspace: users, rubrics, queues, the bundled real sample and a first bundle.

Every step is safe to repeat: existing users get new passwords, existing
rubrics and queues are reused, imports skip duplicates, and sample reviews
and the first export are only made once.
"""

import secrets
from dataclasses import dataclass
from pathlib import Path

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.management import call_command

from exports.models import ExportJob
from exports.services import export_request
from reviews.models import Queue, Review
from reviews.services import assignment_claim, queue_create, review_submit
from rubrics.models import Rubric
from rubrics.services import rubric_create

DEMO_DATA = Path(__file__).resolve().parent.parent / "bookbag" / "demo_data"
HH_RLHF_SAMPLE = DEMO_DATA / "hh-rlhf_helpful-base_test_first150.jsonl.gz"
TAU_BENCH_SAMPLE = DEMO_DATA / "tau-bench_gpt-4o-airline_first12.json"
SAMPLE_REVIEW_COUNT = 8

HELPFULNESS = {
    "name": "Helpful and harmless",
    "slug": "helpful-harmless",
    "guidelines": (
        "Judge the **last assistant reply** only.\n\n"
        "- Approve a reply that answers the user's request correctly, safely and politely.\n"
        "- Mark *needs fix* and write the reply you would want the model to give when it is close.\n"
        "- Reject a reply that is harmful or beyond repair, and say why."
    ),
    "criteria": [
        {"key": "helpful", "label": "Helpful", "kind": "pass_fail", "guidance": "Does it address the request?"},
        {"key": "harmless", "label": "Harmless", "kind": "pass_fail", "guidance": "Nothing dangerous or abusive."},
        {"key": "quality", "label": "Overall quality", "kind": "scale", "min_value": 1, "max_value": 5,
         "required": False, "guidance": "1 = useless, 5 = as good as an expert's reply."},
        {"key": "tone", "label": "Tone", "kind": "choice", "options": ["friendly", "neutral", "curt"],
         "required": False},
    ],
}
AIRLINE = {
    "name": "Airline agent policy",
    "slug": "airline-policy",
    "guidelines": (
        "The system message holds the airline's policy. Judge the agent's **last turn**: "
        "its text or its tool call. Check that it follows the policy and confirms before any booking change."
    ),
    "criteria": [
        {"key": "follows_policy", "label": "Follows the policy", "kind": "pass_fail"},
        {"key": "tool_use", "label": "Tool use", "kind": "choice",
         "options": ["correct", "unnecessary", "wrong arguments", "no tool needed"], "required": False},
    ],
}
USERS = [
    # username, is superuser, holds the manager permission
    ("admin", True, True),
    ("manager", False, True),
    ("lead", False, False),
    ("reviewer1", False, False),
    ("reviewer2", False, False),
]


@dataclass
class DemoUser:
    username: str
    password: str
    role: str


def users_prepare() -> list[DemoUser]:
    """Create the demo users, or give existing ones a new password, and return the credentials."""
    User = get_user_model()
    manage = Permission.objects.get(codename="manage_workspace", content_type__app_label="reviews")
    credentials = []
    # NOTE: these user and permission changes write no audit events, because no user service exists to record them.
    for username, superuser, manager in USERS:
        user, _ = User.objects.get_or_create(username=username, defaults={"email": f"{username}@example.com"})
        password = secrets.token_urlsafe(9)
        user.set_password(password)
        user.is_staff = True
        user.is_superuser = superuser
        user.save()
        if manager:
            user.user_permissions.add(manage)
        if superuser:
            role = "superuser"
        elif manager:
            role = "manager"
        else:
            role = username.rstrip("0123456789")
        credentials.append(DemoUser(username=username, password=password, role=role))
    return credentials


def _rubric(actor, spec: dict) -> Rubric:
    existing = Rubric.objects.filter(slug=spec["slug"]).order_by("-version").first()
    return existing or rubric_create(actor=actor, **spec)


def queues_prepare(manager) -> tuple[Queue, Queue]:
    """Create (or reuse) the two demo queues that ``manager`` manages."""
    helpfulness = Queue.objects.filter(slug="demo-helpfulness").first() or queue_create(
        actor=manager, name="Helpfulness (hh-rlhf sample)", slug="demo-helpfulness",
        rubric=_rubric(manager, HELPFULNESS), reviewers=["reviewer1", "reviewer2"], leads=["lead"],
    )
    airline = Queue.objects.filter(slug="demo-airline").first() or queue_create(
        actor=manager, name="Airline agent (tau-bench sample)", slug="demo-airline",
        rubric=_rubric(manager, AIRLINE), reviewers=["reviewer1", "reviewer2"], leads=["lead"],
    )
    return helpfulness, airline


def samples_import(helpfulness: Queue, airline: Queue, *, stdout) -> None:
    call_command("import_items", str(HH_RLHF_SAMPLE), queue=helpfulness.slug, username="manager", stdout=stdout)
    call_command("import_items", str(TAU_BENCH_SAMPLE), queue=airline.slug, username="manager", stdout=stdout)


def sample_reviews_make(queue: Queue, reviewer) -> int:
    """Review a few items as ``reviewer`` so that the first bundle has rows; return how many.

    The first two replies are approved and the last one is rejected. The
    others are marked needs_fix with the reply the hh-rlhf crowdworkers
    preferred as the rewrite, or approved when there is no other reply.
    """
    if Review.objects.filter(item__queue=queue).exists():
        return 0
    reviewed = 0
    for number in range(SAMPLE_REVIEW_COUNT):
        assignment = assignment_claim(queue=queue, reviewer=reviewer)
        if assignment is None:
            break
        item = assignment.item
        reference = (item.reference_response or {}).get("content") or ""
        scores = {"helpful": True, "harmless": True}
        if number == SAMPLE_REVIEW_COUNT - 1:
            review_submit(assignment=assignment, reviewer=reviewer, verdict="rejected", scores=scores,
                          reason="Demo: rejected to show a reply that yields no training row.")
        elif number >= 2 and reference.strip() and reference.strip() != item.response_text.strip():
            review_submit(assignment=assignment, reviewer=reviewer, verdict="needs_fix", scores=scores,
                          corrected_response=reference)
        else:
            review_submit(assignment=assignment, reviewer=reviewer, verdict="approved", scores=scores)
        reviewed += 1
    return reviewed


def first_export_make(manager, queue: Queue) -> ExportJob:
    """Return the demo's succeeded export of ``queue``, building it the first time."""
    job = export_request(
        requester=manager, kind="both", format="trl", filters={"queues": [queue.slug]},
        idempotency_key="demo-first-bundle",
    )
    job.refresh_from_db()
    return job
