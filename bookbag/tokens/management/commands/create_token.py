"""``manage.py create_token USERNAME [--scope SCOPE ...] [--name NAME]``."""

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from bookbag.audit.context import audit_context
from bookbag.audit.models import AuditEvent
from bookbag.tokens.models import Scope
from bookbag.tokens.services import token_create


def _validation_message(error: ValidationError) -> str:
    if hasattr(error, "error_dict"):
        return "; ".join(f"--{field}: {message}" for field, messages in error.message_dict.items() for message in messages)
    return "; ".join(error.messages)


class Command(BaseCommand):
    help = (
        "Create an API token for USERNAME and print its key as the last line of output. "
        "Only a digest of the key is stored, so this is the one time it is shown."
    )

    def add_arguments(self, parser):
        parser.add_argument("username", help="The account the token acts as.")
        parser.add_argument(
            "--scope",
            action="append",
            dest="scopes",
            metavar="SCOPE",
            help=(
                f"A scope the token carries, one of {', '.join(Scope.values)}; repeat the option for more. "
                "Default: every scope the user's role allows."
            ),
        )
        parser.add_argument("--name", default="", help="A label that tells the token apart, up to 100 characters.")

    def handle(self, *args, username: str, scopes: list[str] | None, name: str, **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"User {username!r} not found; create the account first in the admin under Users.")

        with audit_context(channel=AuditEvent.Channel.COMMAND):
            try:
                token, key = token_create(user=user, scopes=scopes, name=name, actor=None)
            except ValidationError as error:
                raise CommandError(_validation_message(error)) from error

        self.stdout.write(f"Created token {token.prefix}… for {username} with scopes: {', '.join(token.scopes)}.")
        self.stdout.write("Store the key now; it cannot be shown again.")
        self.stdout.write(key)
