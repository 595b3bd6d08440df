"""AI text, rewrites, reasons, rubric text and metadata are escaped on every admin page that shows them."""

from html.parser import HTMLParser

import pytest
from django.test import Client
from django.urls import reverse

from bookbag.audit.models import AuditEvent
from reviews.models import QueueMembership, ReviewItem
from reviews.services import assignment_claim, review_submit
from tests.factories import (
    CriterionFactory,
    ManagerFactory,
    MembershipFactory,
    QueueFactory,
    ReviewItemFactory,
    RubricFactory,
    UserFactory,
)

SCRIPT = "<script>alert(1)</script>"
ATTRIBUTE = '"><img src=x onerror=alert(1)>'
MARKDOWN_LINK = "[click](javascript:alert(1))"
HTML_LINK = '<a href="javascript:alert(1)">click</a>'
PAYLOAD = f"{SCRIPT} {ATTRIBUTE} {MARKDOWN_LINK} {HTML_LINK}"
ESCAPED_SCRIPT = "&lt;script&gt;alert(1)&lt;/script&gt;"
# Tool-call arguments carry their own payload, so a test can tell that they were shown.
TOOL_SCRIPT = "<script>alert(2)</script>"
ESCAPED_TOOL_SCRIPT = "&lt;script&gt;alert(2)&lt;/script&gt;"
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "data", "xlink:href"}


class TagCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str]]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, {name: value or "" for name, value in attrs}))


def injected_markup(html: str) -> list[str]:
    """Return every place where a payload became markup: a script, handler, image or javascript: URL."""
    found = [script for script in (SCRIPT, TOOL_SCRIPT) if script in html]
    collector = TagCollector()
    collector.feed(html)
    for tag, attributes in collector.tags:
        for name, value in attributes.items():
            if name.startswith("on") and "alert" in value:
                found.append(f"<{tag} {name}={value!r}>")
            if name in URL_ATTRIBUTES and value.strip().lower().startswith("javascript:"):
                found.append(f"<{tag} {name}={value!r}>")
        if tag == "img" and attributes.get("src") == "x":
            found.append("<img src=x>")
    return found


def tool_call_turn() -> dict:
    call = {"id": "call_1", "type": "function", "function": {"name": "lookup", "arguments": f'{{"q": "{TOOL_SCRIPT}"}}'}}
    return {"role": "assistant", "content": None, "tool_calls": [call]}


@pytest.fixture
def world(db):
    """A queue of two-review items whose every free-text field carries the payload, reviewed into adjudication."""
    rubric = RubricFactory(name=f"Rubric {SCRIPT}", guidelines=PAYLOAD)
    CriterionFactory(rubric=rubric, key="correct", label=f"Correct {ATTRIBUTE}", guidance=PAYLOAD, required=False)
    queue = QueueFactory(name=f"Queue {SCRIPT}", rubric=rubric, reviews_per_item=2)
    manager = ManagerFactory(username="escaping-manager", is_superuser=True)
    MembershipFactory(queue=queue, user=manager, role=QueueMembership.Role.MANAGER)
    first, second = UserFactory(username="first-reviewer"), UserFactory(username="second-reviewer")
    for user in (first, second):
        MembershipFactory(queue=queue, user=user)
    conversation = [
        {"role": "system", "content": PAYLOAD},
        {"role": "user", "content": PAYLOAD},
        tool_call_turn(),
        {"role": "tool", "tool_call_id": "call_1", "name": "lookup", "content": PAYLOAD},
    ]
    item = ReviewItemFactory(
        queue=queue, conversation=conversation, response={"role": "assistant", "content": PAYLOAD},
        metadata={"note": PAYLOAD, SCRIPT: ATTRIBUTE}, model=f"model {SCRIPT}",
    )
    review_submit(assignment=assignment_claim(queue=queue, reviewer=first), reviewer=first,
                  verdict="needs_fix", corrected_response=f"Fixed. {PAYLOAD}")
    review_submit(assignment=assignment_claim(queue=queue, reviewer=second), reviewer=second,
                  verdict="rejected", reason=f"Unsafe. {PAYLOAD}")
    item.refresh_from_db()
    assert item.state == ReviewItem.State.ADJUDICATION
    held_item = ReviewItemFactory(queue=queue, response={"role": "assistant", "content": PAYLOAD},
                                  conversation=conversation, metadata={"note": PAYLOAD})
    held = assignment_claim(queue=queue, reviewer=first)
    assert held.item == held_item
    return {"manager": manager, "first": first, "queue": queue, "rubric": rubric, "item": item, "held": held}


def page(user, url: str) -> str:
    client = Client()
    client.force_login(user)
    response = client.get(url)
    assert response.status_code == 200, url
    return response.content.decode()


def manager_urls(world) -> dict[str, str]:
    item, rubric, queue = world["item"], world["rubric"], world["queue"]
    review = item.reviews.order_by("pk").first()
    event = AuditEvent.objects.filter(action="review.submit").first() or AuditEvent.objects.first()
    return {
        "item change": reverse("admin:reviews_reviewitem_change", args=[item.pk]),
        "item changelist": reverse("admin:reviews_reviewitem_changelist"),
        "item history": reverse("admin:reviews_reviewitem_history", args=[item.pk]),
        "review change": reverse("admin:reviews_review_change", args=[review.pk]),
        "review changelist": reverse("admin:reviews_review_changelist"),
        "assignment changelist": reverse("admin:reviews_assignment_changelist"),
        "rubric change": reverse("admin:rubrics_rubric_change", args=[rubric.pk]),
        "rubric changelist": reverse("admin:rubrics_rubric_changelist"),
        "queue change": reverse("admin:reviews_queue_change", args=[queue.pk]),
        "queue changelist": reverse("admin:reviews_queue_changelist"),
        "audit changelist": reverse("admin:audit_auditevent_changelist"),
        "audit change": reverse("admin:audit_auditevent_change", args=[event.pk]),
        "admin index": reverse("admin:index"),
        "adjudication list": reverse("admin:workspace_adjudication"),
        "adjudication": reverse("admin:workspace_adjudicate", args=[item.pk]),
    }


MANAGER_PAGES = [
    "item change", "item changelist", "item history", "review change", "review changelist",
    "assignment changelist", "rubric change", "rubric changelist", "queue change", "queue changelist",
    "audit changelist", "audit change", "admin index", "adjudication list", "adjudication",
]


@pytest.mark.parametrize("name", MANAGER_PAGES)
def test_manager_page_escapes_payloads(world, name):
    html = page(world["manager"], manager_urls(world)[name])

    assert injected_markup(html) == []


@pytest.mark.parametrize(
    "name", ["item change", "review change", "rubric change", "adjudication", "item changelist", "queue changelist"]
)
def test_manager_page_shows_payload_as_text(world, name):
    html = page(world["manager"], manager_urls(world)[name])

    assert ESCAPED_SCRIPT in html


def test_workspace_review_page_escapes_payloads(world):
    html = page(world["first"], reverse("admin:workspace_assignment", args=[world["held"].pk]))

    assert injected_markup(html) == []
    assert ESCAPED_SCRIPT in html
    assert ESCAPED_TOOL_SCRIPT in html


def test_item_change_page_shows_tool_arguments_as_text(world):
    html = page(world["manager"], reverse("admin:reviews_reviewitem_change", args=[world["item"].pk]))

    assert ESCAPED_TOOL_SCRIPT in html


def test_workspace_history_escapes_rewrite(world):
    html = page(world["first"], reverse("admin:workspace_history"))

    assert injected_markup(html) == []
    assert "Fixed." in html


def test_workspace_index_escapes_queue_name(world):
    html = page(world["first"], reverse("admin:workspace"))

    assert injected_markup(html) == []
    assert ESCAPED_SCRIPT in html
