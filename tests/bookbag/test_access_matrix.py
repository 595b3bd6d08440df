"""Every URL × every role × {own object, another queue's object, missing id} returns the declared status.

``RULES`` declares, per URL name, the method the matrix sends, the object
the URL takes and which roles reach it. The first test walks
``get_resolver()`` and fails for a route without a rule, so a new route
cannot ship without one. "Own" means an object of queue A, where the
reviewer, lead and manager work; "other" an object of queue B, which
``other_manager`` manages. Objects that belong to a person, not a queue
(exports, webhooks, tokens), belong to ``manager`` when own and to
``other_manager`` when other. An item kept without a queue answers the
admin as an item of queue B does, and every other role as a missing id.
The data is built once per module inside
a transaction that is rolled back at the end; each test rolls back its
own writes.
"""

import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace

import pytest
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from bookbag.audit.models import AuditEvent
from bookbag.audit.services import audit_record
from bookbag.tokens.models import Scope
from bookbag.tokens.services import token_create
from exports.models import ExportJob, WebhookDelivery, WebhookEndpoint
from reviews.models import QueueMembership, ReviewItem
from reviews.services import assignment_claim
from tests.factories import (
    ManagerFactory,
    MembershipFactory,
    QueueFactory,
    ReviewFactory,
    ReviewItemFactory,
    UserFactory,
)

MISSING_ID = 987654

SESSION_ROLES = ["reviewer", "lead", "other_manager", "manager", "admin"]
TOKEN_ROLES = [f"token_{scope}" for scope in Scope.values]
ROLES = ["anonymous", *SESSION_ROLES, *TOKEN_ROLES]
OBJECTS = ["own", "other", "missing"]

STAFF = frozenset(SESSION_ROLES)
A_MEMBERS = frozenset({"reviewer", "lead", "manager", "admin"})
A_OVERSEERS = frozenset({"lead", "manager", "admin"})
MANAGERS = frozenset({"manager", "other_manager", "admin"})
OWN_MANAGER = frozenset({"manager", "admin"})
OTHER_MANAGER = frozenset({"other_manager", "admin"})
ADMIN = frozenset({"admin"})
NOBODY = frozenset()
REVIEWER_ONLY = frozenset({"reviewer"})
# The scopes each session role carries: a session has every scope its role allows.
SESSION_SCOPES = {
    "reviewer": {Scope.REVIEW, Scope.READ},
    "lead": {Scope.REVIEW, Scope.READ},
    **{role: set(Scope.values) for role in MANAGERS},
}


@dataclass(frozen=True)
class Rule:
    """How one URL responds: ``expect(role, object)`` returns the status; ``target`` names the object it takes."""

    method: str
    expect: Callable[[str, str | None], int | frozenset]
    target: str | None = None


def token_user_scope(role: str) -> tuple[str, str | None]:
    """Return the session role a token acts as (the manager's tokens) and its one scope."""
    if role.startswith("token_"):
        return "manager", role.removeprefix("token_")
    return role, None


def api(scope: str | None, own=NOBODY, other=NOBODY, ok=200, everyone=False) -> Callable:
    """Expect DRF's responses: 401 without credentials, 403 without the scope, 404 out of scope, else ``ok``."""

    def expect(role: str, obj: str | None):
        if role == "anonymous":
            return 401
        user_role, token_scope = token_user_scope(role)
        scopes = {token_scope} if token_scope else SESSION_SCOPES[user_role]
        if scope is not None and scope not in scopes:
            return 403
        if obj is None or everyone:
            return ok
        allowed = {"own": own, "other": other}.get(obj, NOBODY)
        return ok if user_role in allowed else 404

    return expect


def admin_list(allowed=STAFF, ok=200, denied=403) -> Callable:
    """Expect an admin page without an object: the login redirect for anonymous users and tokens."""

    def expect(role: str, obj: str | None):
        if role not in STAFF:
            return 302
        return ok if role in allowed else denied

    return expect


def admin_object(own=NOBODY, other=NOBODY, ok=200, forbidden_to_viewers=NOBODY) -> Callable:
    """Expect an admin object page: 404 out of scope, 403 for ``forbidden_to_viewers`` who may only view it."""

    def expect(role: str, obj: str | None):
        if role not in STAFF:
            return 302
        allowed = {"own": own, "other": other}.get(obj, NOBODY)
        if role not in allowed:
            return 404
        return 403 if role in forbidden_to_viewers else ok

    return expect


def everyone(status: int) -> Callable:
    return lambda role, obj: status


def model_rules(name: str, *, target: str, listing, adding, own, other, deleting=NOBODY) -> dict[str, Rule]:
    """Expand one admin model's rules over its changelist, add, change, history, delete and redirect URLs."""
    viewers = own | other
    return {
        f"admin:{name}_changelist": Rule("GET", admin_list(listing)),
        f"admin:{name}_add": Rule("GET", admin_list(adding)),
        f"admin:{name}_change": Rule("GET", admin_object(own, other), target),
        f"admin:{name}_history": Rule("GET", admin_object(own, other), target),
        f"admin:{name}_delete": Rule("GET", admin_object(own, other, forbidden_to_viewers=viewers - deleting), target),
        # The bare object URL redirects to the change page, which then applies the rules above.
        f"admin:{name}_redirect": Rule("GET", everyone(302), target),
    }


RULES: dict[str, Rule] = {
    "root": Rule("GET", everyone(302)),
    "admin:index": Rule("GET", admin_list()),
    "admin:login": Rule("GET", lambda role, obj: 302 if role in STAFF else 200),
    "admin:logout": Rule("POST", admin_list()),
    "admin:password_change": Rule("GET", admin_list()),
    "admin:password_change_done": Rule("GET", admin_list()),
    # Without its query parameters the autocomplete view refuses every user.
    "admin:autocomplete": Rule("GET", admin_list(NOBODY)),
    "admin:jsi18n": Rule("GET", admin_list()),
    # No Bookbag model has a public URL, so the shortcut finds nothing for any object.
    "admin:view_on_site": Rule("GET", admin_object(NOBODY, NOBODY), "item"),
    "admin:app_list": Rule("GET", admin_list(MANAGERS, denied=404)),
    "admin:catch_all": Rule("GET", admin_list(NOBODY, denied=404)),
    "admin:workspace": Rule("GET", admin_list()),
    "admin:workspace_claim": Rule("POST", admin_object(A_MEMBERS, OTHER_MANAGER, ok=302), "queue"),
    "admin:workspace_assignment": Rule("GET", admin_object(REVIEWER_ONLY), "assignment"),
    "admin:workspace_release": Rule("POST", admin_object(REVIEWER_ONLY, ok=302), "assignment"),
    "admin:workspace_skip": Rule("POST", admin_object(REVIEWER_ONLY, ok=302), "assignment"),
    "admin:workspace_history": Rule("GET", admin_list()),
    # Only leads, managers and admins adjudicate, so a reviewer who leads no queue gets 403, as on other role pages.
    "admin:workspace_adjudication": Rule("GET", admin_list(A_OVERSEERS | MANAGERS)),
    "admin:workspace_review_edit": Rule("GET", admin_object(REVIEWER_ONLY), "review"),
    "admin:workspace_adjudicate": Rule("GET", admin_object(A_OVERSEERS, OTHER_MANAGER), "adjudication"),
    **model_rules("reviews_reviewitem", target="item", listing=STAFF, adding=NOBODY, own=A_MEMBERS,
                  other=OTHER_MANAGER),
    **model_rules("reviews_review", target="review", listing=STAFF, adding=NOBODY, own=A_MEMBERS,
                  other=OTHER_MANAGER),
    **model_rules("reviews_assignment", target="assignment", listing=STAFF, adding=NOBODY, own=A_MEMBERS,
                  other=OTHER_MANAGER),
    **model_rules("reviews_queue", target="queue", listing=STAFF, adding=MANAGERS, own=A_MEMBERS,
                  other=OTHER_MANAGER),
    **model_rules("rubrics_rubric", target="rubric", listing=STAFF, adding=MANAGERS, own=A_MEMBERS | MANAGERS,
                  other=MANAGERS),
    **model_rules("exports_exportjob", target="export", listing=MANAGERS, adding=NOBODY, own=OWN_MANAGER,
                  other=OTHER_MANAGER),
    **model_rules("exports_webhookendpoint", target="webhook", listing=MANAGERS, adding=MANAGERS, own=OWN_MANAGER,
                  other=OTHER_MANAGER, deleting=MANAGERS),
    **model_rules("exports_webhookdelivery", target="delivery", listing=MANAGERS, adding=NOBODY, own=OWN_MANAGER,
                  other=OTHER_MANAGER),
    # Every staff user creates tokens for themselves.
    **model_rules("tokens_apitoken", target="token", listing=STAFF, adding=STAFF, own=OWN_MANAGER,
                  other=OTHER_MANAGER),
    **model_rules("audit_auditevent", target="audit", listing=MANAGERS, adding=NOBODY, own=OWN_MANAGER,
                  other=OTHER_MANAGER),
    **model_rules("auth_user", target="user", listing=ADMIN, adding=ADMIN, own=ADMIN, other=ADMIN, deleting=ADMIN),
    **model_rules("auth_group", target="group", listing=ADMIN, adding=ADMIN, own=ADMIN, other=ADMIN, deleting=ADMIN),
    "admin:auth_user_password_change": Rule("GET", admin_object(ADMIN, ADMIN), "user"),
    "api-root": Rule("GET", api(None)),
    "schema": Rule("GET", everyone(200)),
    "api-docs": Rule("GET", everyone(200)),
    "api-not-found": Rule("GET", everyone(404)),
    "audit-event-list": Rule("GET", api(Scope.READ)),
    "audit-event-detail": Rule("GET", api(Scope.READ, OWN_MANAGER, OTHER_MANAGER), "audit"),
    "review-list": Rule("GET", api(Scope.READ)),
    "review-detail": Rule("GET", api(Scope.READ, REVIEWER_ONLY), "review"),
    # An empty body is invalid, so 400 shows that the request got past every access check.
    "review-revise": Rule("POST", api(Scope.REVIEW, REVIEWER_ONLY, ok=400), "review"),
    "queue-list": Rule("GET", api(Scope.READ)),
    "queue-detail": Rule("GET", api(Scope.READ, A_MEMBERS, OTHER_MANAGER), "queue"),
    "queue-claim": Rule("POST", api(Scope.REVIEW, A_MEMBERS, OTHER_MANAGER, ok=frozenset({200, 204})), "queue"),
    "assignment-list": Rule("GET", api(Scope.READ)),
    "assignment-detail": Rule("GET", api(Scope.READ, REVIEWER_ONLY), "assignment"),
    # An empty body is invalid, so 400 shows that the request got past every access check.
    "assignment-review": Rule("POST", api(Scope.REVIEW, REVIEWER_ONLY, ok=400), "assignment"),
    "assignment-release": Rule("POST", api(Scope.REVIEW, REVIEWER_ONLY), "assignment"),
    "item-list": Rule("GET", api(Scope.READ)),
    "item-detail": Rule("GET", api(Scope.READ, A_MEMBERS, OTHER_MANAGER), "item"),
    "rubric-list": Rule("GET", api(Scope.READ)),
    "rubric-detail": Rule("GET", api(Scope.READ, A_MEMBERS | MANAGERS, MANAGERS), "rubric"),
    "export-list": Rule("GET", api(Scope.EXPORT)),
    "export-detail": Rule("GET", api(Scope.EXPORT, OWN_MANAGER, OTHER_MANAGER), "export"),
    # The job is still queued, so 409 shows that the request got past every access check.
    "export-download": Rule("GET", api(Scope.EXPORT, OWN_MANAGER, OTHER_MANAGER, ok=409), "export"),
    "export-rerun": Rule("POST", api(Scope.EXPORT, OWN_MANAGER, OTHER_MANAGER, ok=202), "export"),
    "webhook-list": Rule("GET", api(Scope.EXPORT)),
    "webhook-detail": Rule("GET", api(Scope.EXPORT, OWN_MANAGER, OTHER_MANAGER), "webhook"),
    "webhook-deliveries": Rule("GET", api(Scope.EXPORT, OWN_MANAGER, OTHER_MANAGER), "webhook"),
}

# The write methods of API object routes, checked besides the method in RULES. Empty bodies change nothing,
# so 200 shows that the request got past every access check. Queues and rubrics in use return 409 to DELETE.
WRITE_RULES: dict[str, tuple[Rule, ...]] = {
    "queue-detail": (
        Rule("PATCH", api(Scope.MANAGE, OWN_MANAGER, OTHER_MANAGER), "queue"),
        Rule("DELETE", api(Scope.MANAGE, OWN_MANAGER, OTHER_MANAGER, ok=409), "queue"),
    ),
    # NOTE: rubrics are shared, so every manager may edit every rubric version, whichever queues use it.
    "rubric-detail": (
        Rule("PATCH", api(Scope.MANAGE, MANAGERS, MANAGERS), "rubric"),
        Rule("DELETE", api(Scope.MANAGE, MANAGERS, MANAGERS, ok=409), "rubric"),
    ),
    "webhook-detail": (
        Rule("PATCH", api(Scope.EXPORT, OWN_MANAGER, OTHER_MANAGER), "webhook"),
        Rule("DELETE", api(Scope.EXPORT, OWN_MANAGER, OTHER_MANAGER, ok=204), "webhook"),
    ),
}
CHECKS = [(key, rule) for key, rule in sorted(RULES.items())] + [
    (key, rule) for key, rules in sorted(WRITE_RULES.items()) for rule in rules
]

# Unnamed routes get a key from their place: the site root, the admin's catch-all and its object redirects.
UNNAMED_KEYS = {"": "root", "admin/(?P<url>.*)$": "admin:catch_all"}


def url_keys() -> dict[str, str]:
    """Walk the URL configuration and return each route's rule key with its full pattern."""
    keys: dict[str, str] = {}

    def walk(resolver: URLResolver, prefix: str, namespace: str) -> None:
        for pattern in resolver.url_patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                walk(pattern, route, namespace + (f"{pattern.namespace}:" if pattern.namespace else ""))
            elif isinstance(pattern, URLPattern):
                keys.setdefault(route, route_key(route, namespace, pattern.name))

    walk(get_resolver(), "", "")
    return keys


def route_key(route: str, namespace: str, name: str | None) -> str:
    if name:
        return namespace + name
    if route.endswith("/<path:object_id>/") and route.startswith("admin/"):
        app_label, model_name = route.split("/")[1:3]
        return f"admin:{app_label}_{model_name}_redirect"
    return UNNAMED_KEYS.get(route, route)


def test_every_route_has_a_rule():
    missing = sorted({key for key in url_keys().values() if key not in RULES})

    assert missing == [], f"new route without a rule in RULES: {missing}"


def test_every_rule_has_a_route():
    stale = sorted((set(RULES) | set(WRITE_RULES)) - set(url_keys().values()))

    assert stale == [], f"rules for routes that no longer exist: {stale}"


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """Build the two queues, their people and one object of each kind per queue; roll it all back at the end."""
    with django_db_blocker.unblock(), transaction.atomic():
        data = build_world()
        yield data
        transaction.set_rollback(True)


def build_people() -> dict:
    people = {
        "reviewer": UserFactory(username="matrix-reviewer"),
        "lead": UserFactory(username="matrix-lead"),
        "manager": ManagerFactory(username="matrix-manager"),
        "other_manager": ManagerFactory(username="matrix-other-manager"),
        "other_reviewer": UserFactory(username="matrix-other-reviewer"),
        "admin": UserFactory(username="matrix-admin", is_superuser=True),
    }
    queue_a, queue_b = QueueFactory(slug="matrix-a"), QueueFactory(slug="matrix-b")
    Role = QueueMembership.Role
    for queue, user, role in [
        (queue_a, "reviewer", Role.REVIEWER), (queue_a, "lead", Role.LEAD), (queue_a, "manager", Role.MANAGER),
        (queue_b, "other_manager", Role.MANAGER), (queue_b, "other_reviewer", Role.REVIEWER),
    ]:
        MembershipFactory(queue=queue, user=people[user], role=role)
    return {**people, "queues": (queue_a, queue_b)}


def build_world() -> dict:
    people = build_people()
    queue_a, queue_b = people["queues"]
    objects: dict[str, tuple] = {"queue": (queue_a, queue_b), "rubric": (queue_a.rubric, queue_b.rubric)}
    items = (ReviewItemFactory(queue=queue_a), ReviewItemFactory(queue=queue_b))
    objects["assignment"] = (
        assignment_claim(queue=queue_a, reviewer=people["reviewer"]),
        assignment_claim(queue=queue_b, reviewer=people["other_reviewer"]),
    )
    objects["item"] = items
    unqueued = ReviewItemFactory(queue=None)
    objects["unqueued_item"] = (unqueued, unqueued)
    objects["review"] = (
        ReviewFactory(item=ReviewItemFactory(queue=queue_a), reviewer=people["reviewer"]),
        ReviewFactory(item=ReviewItemFactory(queue=queue_b), reviewer=people["other_reviewer"]),
    )
    objects["adjudication"] = tuple(
        ReviewItemFactory(queue=queue, state=ReviewItem.State.ADJUDICATION) for queue in (queue_a, queue_b)
    )
    owners = (people["manager"], people["other_manager"])
    objects["export"] = tuple(
        ExportJob.objects.create(requester=owner, filters={"queues": [queue.slug]})
        for owner, queue in zip(owners, (queue_a, queue_b), strict=True)
    )
    objects["webhook"] = tuple(
        WebhookEndpoint.objects.create(owner=owner, url="https://127.0.0.1/hook", events=["export.succeeded"],
                                       secret="s" * 32)
        for owner in owners
    )
    objects["delivery"] = tuple(
        WebhookDelivery.objects.create(
            endpoint=endpoint, event_id=uuid.uuid4(), event="export.succeeded", job=job, payload={}, attempt=1
        )
        for endpoint, job in zip(objects["webhook"], objects["export"], strict=True)
    )
    objects["token"] = tuple(token_create(user=owner)[0] for owner in owners)
    for queue in (queue_a, queue_b):
        audit_record(actor=None, action="queue.update", instance=queue, after={"name": queue.name})
    objects["audit"] = tuple(
        AuditEvent.objects.filter(object_type="reviews.queue", object_id=str(queue.pk)).latest("id")
        for queue in (queue_a, queue_b)
    )
    objects["user"] = (people["reviewer"], people["other_reviewer"])
    objects["group"] = (Group.objects.create(name="matrix-a"), Group.objects.create(name="matrix-b"))
    keys = {f"token_{scope}": token_create(user=people["manager"], scopes=[scope])[1] for scope in Scope.values}
    return {"people": people, "objects": objects, "keys": keys}


def object_id(world, target: str, obj: str) -> int:
    if obj == "missing":
        return MISSING_ID
    own, other = world["objects"][target]
    return (own if obj == "own" else other).pk


def url_for(key: str, rule: Rule, world, obj: str | None) -> str:
    """Build the URL that ``key`` names, for ``obj`` of the rule's target."""
    pk = object_id(world, rule.target, obj) if rule.target else None
    special = {
        "root": "/",
        "admin:catch_all": "/admin/no-such-page/",
        "api-not-found": "/api/v1/no-such-route/",
        "admin:app_list": reverse("admin:app_list", args=["exports"]),
        "admin:view_on_site": f"/admin/r/{ContentType.objects.get_for_model(ReviewItem).pk}/{pk}/",
        "admin:auth_user_password_change": f"/admin/auth/user/{pk}/password/",
    }
    if key in special:
        return special[key]
    if key.endswith("_redirect"):
        return reverse(key.removesuffix("_redirect") + "_change", args=[pk]).removesuffix("change/")
    return reverse(key, args=[pk] if pk is not None else [])


def client_for(role: str, world) -> Client:
    client = Client()
    if role in STAFF:
        client.force_login(world["people"][role])
    elif role in TOKEN_ROLES:
        client.defaults["HTTP_AUTHORIZATION"] = f"Token {world['keys'][role]}"
    return client


def status_matches(expected, actual: int) -> bool:
    return actual in expected if isinstance(expected, frozenset) else actual == expected


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("key", "rule"), CHECKS, ids=[f"{key}-{rule.method}" for key, rule in CHECKS])
def test_route_returns_declared_status(world, db, key, rule, role):
    client = client_for(role, world)
    mismatches = []

    for obj in OBJECTS if rule.target else [None]:
        expected = rule.expect(role, obj)
        url = url_for(key, rule, world, obj)
        response = client.generic(rule.method, url, content_type="application/json")
        if not status_matches(expected, response.status_code):
            mismatches.append(f"{rule.method} {url} as {role} ({obj}): expected {expected}, got {response.status_code}")

    assert mismatches == [], "\n".join(mismatches)


ITEM_CHECKS = [(key, rule) for key, rule in CHECKS if rule.target == "item"]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("key", "rule"), ITEM_CHECKS, ids=[f"{key}-{rule.method}" for key, rule in ITEM_CHECKS])
def test_unqueued_item_route_returns_declared_status(world, db, key, rule, role):
    """An unqueued item returns the admin the status of another queue's item, and everyone else that of a missing id."""
    client = client_for(role, world)
    expected = rule.expect(role, "other" if role == "admin" else "missing")
    url = url_for(key, replace(rule, target="unqueued_item"), world, "own")

    response = client.generic(rule.method, url, content_type="application/json")

    assert status_matches(expected, response.status_code), f"{rule.method} {url} as {role}: got {response.status_code}"


@pytest.mark.parametrize("key", [key for key, rule in RULES.items() if rule.target and key.count("-") == 1])
def test_api_out_of_scope_body_equals_missing_body(world, db, key):
    """An object of another queue gets exactly the response body of a missing id, on every API object route."""
    rule = RULES[key]
    client = client_for("reviewer", world)

    other = client.generic(rule.method, url_for(key, rule, world, "other"), content_type="application/json")
    missing = client.generic(rule.method, url_for(key, rule, world, "missing"), content_type="application/json")

    assert other.status_code == missing.status_code
    assert other.content.replace(str(object_id(world, rule.target, "other")).encode(), b"ID") == \
        missing.content.replace(str(MISSING_ID).encode(), b"ID")


ADMIN_OBJECT_PAGES = [key for key, rule in RULES.items() if key.startswith("admin:") and rule.target
                      and rule.method == "GET" and not key.endswith("_redirect")]


@pytest.mark.parametrize("key", ADMIN_OBJECT_PAGES)
def test_admin_out_of_scope_page_equals_missing_page(world, db, key):
    """An admin object of another queue gets exactly the page of a missing id."""
    rule = RULES[key]
    client = client_for("reviewer", world)

    other = client.get(url_for(key, rule, world, "other"))
    missing = client.get(url_for(key, rule, world, "missing"))

    assert other.status_code == missing.status_code == 404
    assert other.content == missing.content
