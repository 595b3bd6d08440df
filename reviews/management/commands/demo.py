from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from bookbag.audit.context import audit_context
from exports.counts import counts_lines
from reviews import demo


class Command(BaseCommand):
    help = (
        "Prepare a demo workspace on the current database (migrations, demo users with new passwords, "
        "two queues with a real bundled sample, a few sample reviews and a first export bundle), "
        "then serve it. Safe to run again."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--addrport", default="127.0.0.1:8000", help="Address and port to serve on (default 127.0.0.1:8000)."
        )
        parser.add_argument("--no-serve", action="store_true", help="Prepare the workspace and exit.")

    def handle(self, *args, addrport: str, no_serve: bool, **options) -> None:
        call_command("migrate", interactive=False, verbosity=0)
        self.stdout.write("Database migrated.")

        with audit_context(channel="command"):
            credentials = demo.users_prepare()
            manager = get_user_model().objects.get(username="manager")
            helpfulness, airline = demo.queues_prepare(manager)
            demo.samples_import(helpfulness, airline, stdout=self.stdout)
            reviewer = get_user_model().objects.get(username="reviewer2")
            reviewed = demo.sample_reviews_make(helpfulness, reviewer)
            job = demo.first_export_make(manager, helpfulness)

        if job.state != job.State.SUCCEEDED:
            raise CommandError(f"The demo export {job.pk} ended {job.state}: {job.error}")
        self._summary(credentials, reviewed, job, addrport)
        if not no_serve:
            call_command("runserver", addrport, use_reloader=False)

    def _summary(self, credentials, reviewed: int, job, addrport: str) -> None:
        self.stdout.write(f"Sample reviews made now: {reviewed} (by reviewer2).")
        self.stdout.write(f"Export bundle {job.pk}:")
        for line in counts_lines(job):
            self.stdout.write(f"  {line}")
        self.stdout.write("")
        self.stdout.write("Demo users (passwords are new on every run):")
        for user in credentials:
            self.stdout.write(f"  {user.username:<10} {user.password:<14} {user.role}")
        self.stdout.write("")
        self.stdout.write(f"Workspace: http://{addrport}/admin/  (log in as reviewer1, then Start reviewing)")
        self.stdout.write(f"Bundle:    http://{addrport}/api/v1/exports/{job.pk}/download/  (as manager)")
