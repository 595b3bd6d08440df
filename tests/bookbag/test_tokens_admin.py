import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from bookbag.audit.models import AuditEvent
from bookbag.tokens.models import ApiToken
from bookbag.tokens.services import token_create, token_digest
from tests.factories import ManagerFactory, UserFactory

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:tokens_apitoken_changelist")
ADD = reverse("admin:tokens_apitoken_add")


@pytest.fixture
def own_token(reviewer):
    return token_create(user=reviewer, name="laptop")[0]


@pytest.fixture
def other_token(manager):
    return token_create(user=manager, name="ci")[0]


def revoke(client, *tokens):
    return client.post(
        CHANGELIST, {"action": "revoke", "_selected_action": [str(token.pk) for token in tokens]}, follow=True
    )


def test_user_sees_own_tokens(client, reviewer, own_token, other_token):
    client.force_login(reviewer)

    response = client.get(CHANGELIST)

    assert [token.pk for token in response.context["cl"].result_list] == [own_token.pk]


def test_superuser_sees_every_token(client, own_token, other_token):
    client.force_login(UserFactory(username="root", is_superuser=True))

    response = client.get(CHANGELIST)

    assert {token.pk for token in response.context["cl"].result_list} == {own_token.pk, other_token.pk}


def test_digest_is_never_shown(client, reviewer, own_token):
    client.force_login(reviewer)

    listing = client.get(CHANGELIST).content.decode()
    detail = client.get(reverse("admin:tokens_apitoken_change", args=[own_token.pk])).content.decode()

    assert own_token.digest not in listing
    assert own_token.digest not in detail
    assert own_token.prefix in detail


def test_revoke_action_revokes_own_token(client, reviewer, own_token):
    client.force_login(reviewer)

    response = revoke(client, own_token)

    own_token.refresh_from_db()
    assert own_token.revoked_at is not None
    assert AuditEvent.objects.get(action="token.revoke").actor == reviewer
    assert [str(message) for message in response.context["messages"]] == ["Revoked 1 token."]


def test_revoke_skips_revoked_tokens(client, reviewer, own_token):
    second = token_create(user=reviewer, name="phone")[0]
    client.force_login(reviewer)
    revoke(client, own_token)

    response = revoke(client, own_token, second)

    assert [str(message) for message in response.context["messages"]][-1] == (
        "Revoked 1 token. 1 of the selected tokens was revoked already."
    )
    assert AuditEvent.objects.filter(action="token.revoke").count() == 2


def test_revoke_counts_several_revoked_tokens(client, reviewer, own_token):
    second = token_create(user=reviewer, name="phone")[0]
    client.force_login(reviewer)
    revoke(client, own_token, second)

    response = revoke(client, own_token, second)

    assert [str(message) for message in response.context["messages"]][-1] == (
        "Revoked 0 tokens. 2 of the selected tokens were revoked already."
    )


def test_revoke_ignores_other_users_token(client, reviewer, other_token):
    client.force_login(reviewer)

    revoke(client, other_token)

    other_token.refresh_from_db()
    assert other_token.revoked_at is None


def test_tokens_are_not_edited(client, reviewer, own_token):
    client.force_login(reviewer)

    change = client.post(reverse("admin:tokens_apitoken_change", args=[own_token.pk]), {"scopes": '["export"]'})

    assert change.status_code == 403
    own_token.refresh_from_db()
    assert "export" not in own_token.scopes


def test_other_users_token_is_not_found(client, reviewer, other_token):
    client.force_login(reviewer)

    response = client.get(reverse("admin:tokens_apitoken_change", args=[other_token.pk]))

    assert response.status_code == 404


@pytest.mark.parametrize("rows", [1, 5])
def test_changelist_query_count_is_flat(client, rows, django_assert_num_queries):
    for index in range(rows):
        token_create(user=UserFactory(username=f"owner{index}"))
    client.force_login(UserFactory(username="root", is_superuser=True))

    with django_assert_num_queries(4):
        response = client.get(CHANGELIST)

    assert len(response.context["cl"].result_list) == rows
    assert ApiToken.objects.count() == rows


def create(client, **fields):
    return client.post(ADD, fields)


def test_add_page_offers_only_own_account(client, reviewer, manager):
    client.force_login(reviewer)

    response = client.get(ADD)

    assert response.status_code == 200
    assert list(response.context["form"].fields["user"].queryset) == [reviewer]


def test_created_key_is_shown_once(client, reviewer):
    client.force_login(reviewer)

    response = create(client, user=reviewer.pk, name="laptop", scopes=["read"])

    assert response.status_code == 200
    key = response.context["key"]
    token = ApiToken.objects.get(user=reviewer)
    assert token.digest == token_digest(key)
    assert token.scopes == ["read"]
    assert token.name == "laptop"
    assert key in response.content.decode()
    assert "no-store" in response["Cache-Control"]
    later = client.get(reverse("admin:tokens_apitoken_change", args=[token.pk])).content.decode()
    listing = client.get(CHANGELIST).content.decode()
    assert key not in later
    assert key not in listing


def test_created_key_authenticates_api(client, reviewer):
    client.force_login(reviewer)
    key = create(client, user=reviewer.pk, scopes=["read"]).context["key"]
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")

    response = api.get("/api/v1/queues/")

    assert response.status_code == 200


def test_token_without_scopes_gets_role_scopes(client, reviewer):
    client.force_login(reviewer)

    create(client, user=reviewer.pk)

    assert ApiToken.objects.get(user=reviewer).scopes == ["review", "read"]


def test_creation_is_audited(client, reviewer):
    client.force_login(reviewer)

    create(client, user=reviewer.pk, scopes=["read"])

    event = AuditEvent.objects.get(action="token.create")
    assert event.actor == reviewer
    assert event.channel == AuditEvent.Channel.ADMIN


def test_scope_beyond_role_is_rejected(client, reviewer):
    client.force_login(reviewer)

    response = create(client, user=reviewer.pk, scopes=["export"])

    assert response.status_code == 200
    assert "key" not in response.context
    assert response.context["form"].non_field_errors() == [
        "User 'reviewer' may not hold scope 'export'; their role allows review, read."
    ]
    assert ApiToken.objects.count() == 0


def test_token_for_other_user_is_rejected(client, reviewer, manager):
    client.force_login(reviewer)

    response = create(client, user=manager.pk, scopes=["read"])

    assert response.status_code == 200
    assert "user" in response.context["form"].errors
    assert ApiToken.objects.count() == 0


def test_superuser_creates_token_for_manager(client, manager):
    client.force_login(UserFactory(username="root", is_superuser=True))

    response = create(client, user=manager.pk, scopes=["export"])

    token = ApiToken.objects.get()
    assert token.user == manager
    assert token.digest == token_digest(response.context["key"])


def test_inactive_user_is_not_offered(client):
    inactive = ManagerFactory(username="gone", is_active=False)
    client.force_login(UserFactory(username="root", is_superuser=True))

    response = create(client, user=inactive.pk)

    assert "user" in response.context["form"].errors
    assert ApiToken.objects.count() == 0
