"""Benchmark of what the audit history costs on PostgreSQL.

Two measurements, in a dedicated database, ``bookbag_bench_audit``, which the
script creates and drops:

1. A review submit with and without its audit write. A reviewer claims an
   item (not measured), then ``review_submit`` runs inside
   ``CaptureQueriesContext``, timed. Submits alternate between the normal
   code and the same code with every ``audit_record`` and
   ``audit_record_many`` replaced by a function that writes nothing, so both
   sides see the same table sizes and machine load.
2. ``manage.py verify_audit`` over N events (1M by default). The events are
   seeded with COPY, their hashes computed in this process by the app's own
   ``event_hash`` and chained onto the events of step 1, so the whole chain
   verifies. The command runs as a child process under GNU time, which gives
   its wall time and peak RSS.

Usage, from the repository root:

    /work/main/.venv/bin/python bench/audit.py --submits 200 --events 1m

The results, the machine and the load average are printed as Markdown for
docs/benchmarks.md.
"""

import argparse
import datetime
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace

REPOSITORY = Path(__file__).resolve().parent.parent
if str(REPOSITORY) not in sys.path:
    sys.path.insert(0, str(REPOSITORY))

from bench.export import size_parse  # noqa: E402
from bench.measure import child_run, machine_describe  # noqa: E402

DATABASE_NAME = "bookbag_bench_audit"
DEFAULT_SERVER = "postgresql://postgres@127.0.0.1:5432"
COPY_COLUMNS = (
    "actor_id", "actor_label", "via_token", "initiator_id", "channel", "action", "object_type", "object_id",
    "before", "after", "request_id", "created_at", "previous_hash", "hash",
)


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--server", default=DEFAULT_SERVER, help="PostgreSQL server URL, without a database name.")
    parser.add_argument("--submits", type=int, default=200, help="Review submits to measure, half of them without audit.")
    parser.add_argument("--events", type=size_parse, default=1_000_000, help="Events to seed for verify_audit (e.g. 1m).")
    parser.add_argument("--timeout", type=float, default=3600, help="Seconds verify_audit may run before it is killed.")
    return parser.parse_args(argv)


@contextmanager
def _bench_database(server: str) -> Iterator[str]:
    """Create an empty benchmark database, yield its URL, and drop it however the block ends."""
    import psycopg

    admin_url = f"{server.rstrip('/')}/postgres"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {DATABASE_NAME} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {DATABASE_NAME}")
    try:
        yield f"{server.rstrip('/')}/{DATABASE_NAME}"
    finally:
        if "django" in sys.modules:
            from django.db import connections

            connections.close_all()
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {DATABASE_NAME} WITH (FORCE)")
        print(f"Dropped database {DATABASE_NAME}.", file=sys.stderr)


def _django_setup(database_url: str) -> None:
    os.environ.update({
        "DJANGO_SETTINGS_MODULE": "bookbag.settings.local",
        "DJANGO_DEBUG": "false",
        "DATABASE_URL": database_url,
        "BOOKBAG_LOG_LEVEL": "WARNING",
    })
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def _review_setup(count: int):
    """Create a manager, a reviewer, a one-criterion rubric, a queue and ``count`` pending items."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Permission

    from reviews.models import ReviewItem
    from reviews.services import queue_create
    from rubrics.services import rubric_create

    User = get_user_model()
    manager = User.objects.create_user("bench-manager", is_staff=True)
    manager.user_permissions.add(Permission.objects.get(codename="manage_workspace"))
    manager = User.objects.get(pk=manager.pk)
    reviewer = User.objects.create_user("bench-reviewer", is_staff=True)
    rubric = rubric_create(
        actor=manager, name="Bench", slug="bench",
        criteria=[{"key": "correct", "label": "Correct", "kind": "pass_fail", "required": True}],
    )
    queue = queue_create(actor=manager, name="Bench", slug="bench", rubric=rubric, reviewers=[reviewer.username])
    conversation = [{"role": "user", "content": "The WAN light on my router blinks amber."}]
    ReviewItem.objects.bulk_create(
        ReviewItem(queue=queue, source="bench", external_id=f"item-{n}", conversation=conversation,
                   response="Restart the router.", content_hash=f"{n:064x}")
        for n in range(count)
    )
    return queue, reviewer


@contextmanager
def _audit_disabled() -> Iterator[None]:
    """Replace the audit writers everywhere they were imported with functions that write nothing."""
    from bookbag.audit import services

    originals = {"audit_record": services.audit_record, "audit_record_many": services.audit_record_many}
    patched = []
    for module in list(sys.modules.values()):
        for name, original in originals.items():
            if getattr(module, name, None) is original:
                patched.append((module, name, original))
                setattr(module, name, lambda **kwargs: None)
    try:
        yield
    finally:
        for module, name, original in patched:
            setattr(module, name, original)


def _submits_measure(count: int) -> dict[str, dict[str, float]]:
    """Time ``count`` review submits, alternating with and without audit; return per-mode statistics."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from reviews.services import assignment_claim, review_submit

    queue, reviewer = _review_setup(count)
    samples: dict[str, list[tuple[float, int]]] = {"with audit": [], "without audit": []}
    for n in range(count):
        mode = "with audit" if n % 2 == 0 else "without audit"
        assignment = assignment_claim(queue=queue, reviewer=reviewer)
        with CaptureQueriesContext(connection) as queries:
            if mode == "with audit":
                started = time.perf_counter()
                review_submit(assignment=assignment, reviewer=reviewer, verdict="approved", scores={"correct": True})
            else:
                with _audit_disabled():
                    started = time.perf_counter()
                    review_submit(
                        assignment=assignment, reviewer=reviewer, verdict="approved", scores={"correct": True}
                    )
            elapsed = time.perf_counter() - started
        samples[mode].append((elapsed * 1000, len(queries.captured_queries)))
    return {mode: _summary(values) for mode, values in samples.items()}


def _summary(values: list[tuple[float, int]]) -> dict[str, float]:
    times = sorted(ms for ms, _ in values)
    return {
        "submits": len(values),
        "median_ms": statistics.median(times),
        "p95_ms": times[int(len(times) * 0.95) - 1],
        "queries": statistics.median(queries for _, queries in values),
    }


def _event_rows(count: int, previous: str) -> Iterator[tuple]:
    """Yield ``count`` chained event rows for COPY, starting after the hash ``previous``."""
    from bookbag.audit.chain import event_hash

    start = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
    for n in range(count):
        event = SimpleNamespace(
            actor_id=None, actor_label="", via_token="", initiator_id=None, channel="command",
            action="bench.event", object_type="reviews.queue", object_id=str(n % 1000),
            before={"position": n - 1}, after={"position": n}, request_id=f"bench-{n // 100}",
            created_at=start + datetime.timedelta(microseconds=n), previous_hash=previous,
        )
        event.hash = previous = event_hash(event)
        yield (
            None, "", "", None, "command", "bench.event", event.object_type, event.object_id,
            f'{{"position": {n - 1}}}', f'{{"position": {n}}}', event.request_id,
            event.created_at.isoformat(), event.previous_hash, event.hash,
        )


def _events_seed(url: str, count: int) -> float:
    """COPY ``count`` chained events after the stored ones; return the seconds taken."""
    import psycopg

    from bookbag.audit.chain import chain_head

    started = time.perf_counter()
    previous = chain_head()
    copy_sql = f"COPY audit_auditevent ({', '.join(COPY_COLUMNS)}) FROM STDIN"
    with psycopg.connect(url) as connection:
        with connection.cursor() as cursor, cursor.copy(copy_sql) as copy:
            for row in _event_rows(count, previous):
                copy.write_row(row)
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute("VACUUM (ANALYZE) audit_auditevent")
    return time.perf_counter() - started


def _verify_measure(timeout: float):
    """Run ``manage.py verify_audit`` under GNU time; return the run and its standard output."""
    argv = [sys.executable, str(REPOSITORY / "manage.py"), "verify_audit", "--progress-every", "250000"]
    with tempfile.TemporaryFile("w+") as stdout:
        run = child_run(argv, stdout=stdout, stderr=sys.stderr, timeout=timeout)
        stdout.seek(0)
        return run, stdout.read().strip()


def _report(submits: dict, seed_seconds: float, events: int, run, verify_output: str, postgres: str) -> None:
    print("### Results\n")
    print("| review submit | submits | median ms | p95 ms | queries (median) |")
    print("|---|---|---|---|---|")
    for mode, stats in submits.items():
        print(f"| {mode} | {stats['submits']} | {stats['median_ms']:.2f} | {stats['p95_ms']:.2f} | {stats['queries']:.0f} |")
    print(f"\nSeeded {events} events with COPY in {seed_seconds:.1f} s (hashes computed in Python).\n")
    print(f"`verify_audit`: {run.seconds:.1f} s wall, peak RSS {run.max_rss_kib / 1024:.0f} MiB, "
          f"load before {run.load_before}.\n")
    print(f"Output: `{verify_output}`\n")
    print("### Machine\n")
    for key, value in machine_describe(postgres_version=postgres, repository=REPOSITORY).items():
        print(f"- {key}: {value}")
    print(f"- uptime load at the end: {os.getloadavg()}")


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    with _bench_database(args.server) as url:
        _django_setup(url)
        from django.db import connection

        postgres = connection.cursor().connection.info.parameter_status("server_version")
        print(f"load before: {os.getloadavg()}", file=sys.stderr)
        submits = _submits_measure(args.submits)
        seed_seconds = _events_seed(url, args.events)
        connection.close()
        run, verify_output = _verify_measure(args.timeout)
        if "Audit chain intact" not in verify_output:
            print(f"verify_audit did not report an intact chain: {verify_output!r}", file=sys.stderr)
            return 1
        _report(submits, seed_seconds, args.events, run, verify_output, postgres)
    return 0


if __name__ == "__main__":
    sys.exit(main())
