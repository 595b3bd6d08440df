import pytest
from django.urls import reverse

from bookbag.audit.models import AuditEvent
from bookbag.tokens.models import ApiToken
from bookbag.tokens.services import token_create
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:tokens_apitoken_changelist")


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
        "Revoked 1 token. 1 of the selected tokens were revoked already."
    )
    assert AuditEvent.objects.filter(action="token.revoke").count() == 2


def test_revoke_ignores_other_users_token(client, reviewer, other_token):
    client.force_login(reviewer)

    revoke(client, other_token)

    other_token.refresh_from_db()
    assert other_token.revoked_at is None


def test_tokens_are_not_added_or_edited(client, reviewer, own_token):
    client.force_login(reviewer)

    add = client.get(reverse("admin:tokens_apitoken_add"))
    change = client.post(reverse("admin:tokens_apitoken_change", args=[own_token.pk]), {"scopes": '["export"]'})

    assert add.status_code == 403
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
