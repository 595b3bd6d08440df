from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from bookbag.audit.context import audit_context
from bookbag.audit.pruning import audit_prune


class Command(BaseCommand):
    help = (
        "Delete audit events older than the retention period and record a checkpoint, so verify_audit "
        "checks the chain from the first kept event."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--older-than", type=int, dest="older_than", metavar="DAYS",
            help="Delete events created more than DAYS days ago (default: the AUDIT_RETENTION_DAYS setting).",
        )

    def handle(self, *args, older_than: int | None, **options):
        days = older_than if older_than is not None else settings.AUDIT_RETENTION_DAYS
        try:
            with audit_context(channel="command"):
                checkpoint = audit_prune(actor=None, older_than_days=days)
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        if checkpoint is None:
            self.stdout.write(f"No audit events older than {days} days; nothing pruned.")
            return
        self.stdout.write(
            f"Pruned {checkpoint.pruned_count} audit events older than {days} days "
            f"(up to event {checkpoint.pruned_through_id})."
        )
