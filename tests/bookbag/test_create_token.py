import io

import pytest
from django.core.management import CommandError, call_command

from bookbag.audit.models import AuditEvent
from bookbag.tokens.models import ApiToken
from bookbag.tokens.services import token_digest
from tests.factories import ManagerFactory, UserFactory

pytestmark = pytest.mark.django_db


def _run(*args: str) -> list[str]:
    output = io.StringIO()
    call_command("create_token", *args, stdout=output)
    return output.getvalue().splitlines()


def test_key_is_last_line_and_matches_stored_digest():
    user = UserFactory(username="ana")

    lines = _run("ana")

    token = ApiToken.objects.get(user=user)
    assert token_digest(lines[-1]) == token.digest
    assert lines[-1].startswith(token.prefix)
    assert lines[0] == f"Created token {token.prefix}… for ana with scopes: review, read."


def test_manager_gets_every_scope_by_default():
    ManagerFactory(username="boss")

    _run("boss")

    assert ApiToken.objects.get(user__username="boss").scopes == ["ingest", "review", "export", "read", "manage"]


def test_reviewer_gets_review_and_read_by_default():
    UserFactory(username="ana")

    _run("ana")

    assert ApiToken.objects.get(user__username="ana").scopes == ["review", "read"]


def test_explicit_scopes_and_name_are_stored():
    ManagerFactory(username="boss")

    _run("boss", "--scope", "ingest", "--scope", "read", "--scope", "ingest", "--name", "nightly import")

    token = ApiToken.objects.get(user__username="boss")
    assert token.scopes == ["ingest", "read"]
    assert token.name == "nightly import"


def test_unknown_user_is_an_error():
    with pytest.raises(CommandError, match="User 'ghost' not found; create the account first"):
        _run("ghost")

    assert not ApiToken.objects.exists()


def test_scope_beyond_role_is_an_error():
    UserFactory(username="ana")

    with pytest.raises(CommandError) as raised:
        _run("ana", "--scope", "export")

    assert str(raised.value) == "User 'ana' may not hold scope 'export'; their role allows review, read."
    assert not ApiToken.objects.exists()


def test_unknown_scope_is_an_error():
    UserFactory(username="ana")

    with pytest.raises(CommandError, match="Unknown scope 'admin'; choose from ingest, review, export, read, manage."):
        _run("ana", "--scope", "admin")


def test_inactive_user_is_an_error():
    UserFactory(username="ana", is_active=False)

    with pytest.raises(CommandError, match="User 'ana' is inactive; activate the account"):
        _run("ana")

    assert not ApiToken.objects.exists()


def test_too_long_name_is_an_error():
    UserFactory(username="ana")

    with pytest.raises(CommandError, match="--name: Ensure this value has at most 100 characters"):
        _run("ana", "--name", "x" * 101)


def test_creation_is_audited_as_command():
    UserFactory(username="ana")

    _run("ana")

    event = AuditEvent.objects.get(action="token.create")
    assert event.channel == AuditEvent.Channel.COMMAND
    assert event.after["scopes"] == ["review", "read"]
