"""Benchmark of claim latency with concurrent reviewers on one PostgreSQL queue.

The script creates a dedicated database, ``bookbag_bench_claim``, and drops
it at the end. For each size N it empties the queue, seeds N pending items
with COPY and vacuums. Then R reviewer processes (16 by default), each a
separate Python process with its own database connection, wait for a common
start time and loop: ``assignment_claim`` (timed), then ``review_submit``
with an approved verdict. The queue has ``reviews_per_item = 1``, so any item
claimed twice is a duplicate. Duplicates are counted from the claims the
workers saw and again from the assignment table.

Usage, from the repository root:

    /work/venv/bin/python bench/claim.py --sizes 10k,1m

The results, the machine and the load average are printed as Markdown for
docs/benchmarks.md. With ``--explain``, the plan of the claim's item query at
each size is printed too (EXPLAIN ANALYZE, run after the measured rounds).
``--setup-sql`` runs a statement after each seed, such as a CREATE INDEX to
try, and ``--keep-database`` leaves the database for inspection.
"""

import argparse
import json
import multiprocessing
import os
import signal
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

REPOSITORY = Path(__file__).resolve().parent.parent
if str(REPOSITORY) not in sys.path:
    sys.path.insert(0, str(REPOSITORY))

from bench.export import size_parse  # noqa: E402
from bench.measure import machine_describe  # noqa: E402

DATABASE_NAME = "bookbag_bench_claim"
DEFAULT_SERVER = "postgresql://postgres@127.0.0.1:5432"
QUEUE_SLUG = "bench-claim"
REVIEWER_PREFIX = "bench-claim-reviewer-"
COPY_BATCH = 50_000
# Leases outlast any round, so no claim expires during the measurement.
LEASE_MINUTES = 24 * 60
P95_TARGET_MS = 20.0
ITEM_RESPONSE = json.dumps({"role": "assistant", "content": "Restart the router, then check that the WAN light is green."})
ITEM_CONVERSATION = json.dumps([{"role": "user", "content": "The WAN light on my router blinks amber."}])


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10k,1m",
                        help="Comma-separated item counts, such as 10k,1m (default: 10k,1m).")
    parser.add_argument("--reviewers", type=int, default=16,
                        help="Concurrent reviewer processes, each with its own connection (default: 16).")
    parser.add_argument("--claims", type=int, default=200,
                        help="Claims (each followed by a submit) per reviewer and size (default: 200).")
    parser.add_argument("--think-ms", type=float, default=0.0,
                        help="Mean time, in ms, a reviewer spends on an item between claim and submit; each pause "
                             "is drawn uniformly from 0.5 to 1.5 times it (default: 0, no pause: a stress test).")
    parser.add_argument("--server", default=DEFAULT_SERVER,
                        help=f"PostgreSQL server URL without a database name (default: {DEFAULT_SERVER}).")
    parser.add_argument("--explain", action="store_true",
                        help="Print EXPLAIN ANALYZE of the claim's item query at each size.")
    parser.add_argument("--setup-sql", metavar="SQL",
                        help="SQL to run after seeding each size and before measuring, such as a CREATE INDEX to try.")
    parser.add_argument("--keep-database", action="store_true",
                        help=f"Leave {DATABASE_NAME} with the last size's rows for inspection; the next run drops it.")
    args = parser.parse_args(argv)

    if urlsplit(args.server).path.strip("/"):
        parser.error(f"invalid --server {args.server!r}: leave out the database name; the script uses {DATABASE_NAME}")
    if not 1 <= args.reviewers <= 64:
        parser.error(f"invalid --reviewers {args.reviewers}: use 1 to 64")
    if args.think_ms < 0:
        parser.error(f"invalid --think-ms {args.think_ms}: use 0 or a positive time in ms")
    if args.claims < 1:
        parser.error(f"invalid --claims {args.claims}: use a positive count")
    try:
        args.sizes = sorted({size_parse(part) for part in args.sizes.split(",")})
    except argparse.ArgumentTypeError as error:
        parser.error(str(error))
    if args.sizes[0] < args.reviewers * args.claims:
        parser.error(f"invalid --sizes: {args.sizes[0]} items are fewer than --reviewers x --claims "
                     f"({args.reviewers * args.claims}); every claim must find an item")
    return args


def _django_setup(database_url: str) -> None:
    """Point the settings at the benchmark database; worker processes inherit the environment."""
    os.environ.update({
        "DJANGO_SETTINGS_MODULE": "bookbag.settings.local",
        "DJANGO_DEBUG": "false",
        "DATABASE_URL": database_url,
        "BOOKBAG_LOG_LEVEL": "WARNING",
    })
    import django

    django.setup()


@contextmanager
def _bench_database(server: str, *, keep: bool = False) -> Iterator[str]:
    """Create an empty ``bookbag_bench_claim`` database, yield its URL, and drop it when the block ends.

    With ``keep``, a run that ends without an error leaves the database in place.
    """
    import psycopg

    admin_url = f"{server.rstrip('/')}/postgres"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {DATABASE_NAME} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {DATABASE_NAME}")
    completed = False
    try:
        yield f"{server.rstrip('/')}/{DATABASE_NAME}"
        completed = True
    finally:
        if "django" in sys.modules:
            from django.db import connections

            connections.close_all()
        if keep and completed:
            print(f"Kept database {DATABASE_NAME}.", file=sys.stderr)
        else:
            with psycopg.connect(admin_url, autocommit=True) as admin:
                admin.execute(f"DROP DATABASE IF EXISTS {DATABASE_NAME} WITH (FORCE)")
            print(f"Dropped database {DATABASE_NAME}.", file=sys.stderr)


def _fixtures_create(reviewer_count: int) -> int:
    """Migrate, then create the rubric, the queue and its reviewers; return the queue id."""
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from reviews.models import Queue, QueueMembership
    from rubrics.models import Rubric

    call_command("migrate", verbosity=0)
    reviewers = get_user_model().objects.bulk_create(
        get_user_model()(username=f"{REVIEWER_PREFIX}{n}", is_staff=True) for n in range(reviewer_count)
    )
    rubric = Rubric.objects.create(name="Claim benchmark", slug="bench-claim", guidelines="Judge the reply.")
    queue = Queue.objects.create(name="Claim benchmark", slug=QUEUE_SLUG, rubric=rubric, reviews_per_item=1,
                                 lease_minutes=LEASE_MINUTES)
    QueueMembership.objects.bulk_create(QueueMembership(queue=queue, user=user) for user in reviewers)
    return queue.pk


def _item_row_values() -> dict[str, Any]:
    """Return the values that every seeded item shares, by column name.

    The queue, external id and content hash vary per row and are left out.
    Columns that the benchmark does not set take their model default (the
    empty string for text without one), so the seed keeps working when the model gains a NOT NULL field with a default.
    """
    from reviews.models import ReviewItem

    chosen = {
        "source": "bench", "conversation": ITEM_CONVERSATION, "response": ITEM_RESPONSE, "metadata": "{}",
        "model": "bench-model", "state": "pending", "priority": 0, "active_assignments": 0,
        "created_at": "now()", "updated_at": "now()",
    }
    values = {}
    for field in ReviewItem._meta.concrete_fields:
        if field.primary_key or field.name in ("queue", "external_id", "content_hash"):
            continue
        if field.name in chosen:
            values[field.column] = chosen[field.name]
        elif field.null:
            values[field.column] = None
        elif field.has_default() or field.empty_strings_allowed:
            default = field.get_default()
            values[field.column] = json.dumps(default) if isinstance(default, (dict, list)) else default
        else:
            raise RuntimeError(f"ReviewItem.{field.name} has no default; give it a value in bench/claim.py.")
    return values


def _queue_reset(url: str, *, queue_id: int, size: int) -> float:
    """Empty the queue's items, assignments, reviews and audit events, COPY in ``size`` pending items, vacuum, checkpoint."""
    import psycopg

    from bookbag.audit.models import AuditEvent
    from reviews.models import Assignment, Review, ReviewItem

    tables = ", ".join(model._meta.db_table for model in (Review, Assignment, ReviewItem, AuditEvent))
    shared = _item_row_values()
    columns = ("queue_id", "external_id", "content_hash", *shared)
    copy_sql = f"COPY {ReviewItem._meta.db_table} ({', '.join(columns)}) FROM STDIN"
    started = time.perf_counter()
    with psycopg.connect(url, autocommit=True) as connection:
        # The audit tables reject TRUNCATE unless this session setting is on; this database is the benchmark's own.
        connection.execute("SET bookbag.audit_truncate = 'on'")
        connection.execute(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
        for first in range(0, size, COPY_BATCH):
            with connection.transaction(), connection.cursor() as cursor, cursor.copy(copy_sql) as copy:
                for n in range(first, min(first + COPY_BATCH, size)):
                    copy.write_row((queue_id, f"item-{n}", f"{n:064x}", *shared.values()))
        connection.execute("VACUUM (ANALYZE)")
        # Write the seed's dirty pages now, so that the checkpointer does not flush them during the measurement.
        connection.execute("CHECKPOINT")
    return time.perf_counter() - started


def _reviewer_run(reviewer_index: int, queue_id: int, claims: int, start_at: float,
                  think_ms: float = 0.0) -> dict[str, Any]:
    """Claim and submit ``claims`` times as one reviewer; return claim and submit latencies and item ids.

    Runs in a worker process: Django is set up here, so the process opens its own connection.
    """
    import django

    django.setup()
    from django.contrib.auth import get_user_model

    from reviews.models import Queue
    from reviews.services import assignment_claim, review_submit

    import random

    # Seeded per reviewer, so a rerun pauses for the same times.
    pauses = random.Random(reviewer_index)
    reviewer = get_user_model().objects.get(username=f"{REVIEWER_PREFIX}{reviewer_index}")
    queue = Queue.objects.select_related("rubric").get(pk=queue_id)
    claim_ms, submit_ms, item_ids, empty = [], [], [], 0
    time.sleep(max(start_at - time.time(), 0))
    if think_ms:
        # Paced reviewers start at random moments within one pause, as people do, not all at once.
        time.sleep(think_ms * pauses.uniform(0, 1) / 1000)
    for _ in range(claims):
        started = time.perf_counter()
        assignment = assignment_claim(queue=queue, reviewer=reviewer)
        claimed = time.perf_counter()
        claim_ms.append((claimed - started) * 1000)
        if assignment is None:
            empty += 1
            continue
        item_ids.append(assignment.item_id)
        if think_ms:
            time.sleep(think_ms * pauses.uniform(0.5, 1.5) / 1000)
        submitting = time.perf_counter()
        review_submit(assignment=assignment, reviewer=reviewer, verdict="approved", time_spent_seconds=1)
        submit_ms.append((time.perf_counter() - submitting) * 1000)
    return {"claim_ms": claim_ms, "submit_ms": submit_ms, "item_ids": item_ids, "empty": empty}


def _percentile(values: list[float], share: float) -> float:
    """Return the ``share`` quantile of ``values`` (statistics.quantiles, inclusive method), NaN for no values."""
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[round(share * 100) - 1]


def _database_duplicates(queue_id: int) -> int:
    """Count items of the queue with more than one claimed or submitted assignment."""
    from django.db.models import Count

    from reviews.models import Assignment

    return (
        Assignment.objects.filter(queue_id=queue_id, state__in=["claimed", "submitted"])
        .values("item_id").annotate(total=Count("id")).filter(total__gt=1).count()
    )


def _round_measure(*, queue_id: int, size: int, args: argparse.Namespace) -> dict[str, Any]:
    """Run the reviewer processes against a freshly seeded queue of ``size`` items and summarise them."""
    from django.db import connections

    connections.close_all()
    context = multiprocessing.get_context("spawn")
    load_before = os.getloadavg()
    with context.Pool(args.reviewers) as pool:
        # Five seconds lets every spawned process import Django before the common start.
        start_at = time.time() + 5.0
        jobs = [(index, queue_id, args.claims, start_at, args.think_ms) for index in range(args.reviewers)]
        runs = pool.starmap(_reviewer_run, jobs)
        wall_seconds = time.time() - start_at
    claim_ms = [value for run in runs for value in run["claim_ms"]]
    submit_ms = [value for run in runs for value in run["submit_ms"]]
    item_counts = Counter(item_id for run in runs for item_id in run["item_ids"])
    return {
        "items": size, "reviewers": args.reviewers, "think_ms": args.think_ms, "claims": len(claim_ms),
        "empty_claims": sum(run["empty"] for run in runs),
        "claim_p50_ms": _percentile(claim_ms, 0.50), "claim_p95_ms": _percentile(claim_ms, 0.95),
        "claim_max_ms": max(claim_ms),
        "submit_p50_ms": _percentile(submit_ms, 0.50), "submit_p95_ms": _percentile(submit_ms, 0.95),
        "duplicates_seen": sum(1 for count in item_counts.values() if count > 1),
        "duplicates_in_database": _database_duplicates(queue_id),
        "claims_per_second": len(claim_ms) / wall_seconds,
        "load_before": list(load_before),
    }


def _claim_plan(queue_id: int) -> str:
    """Return EXPLAIN ANALYZE of the item query that ``assignment_claim`` runs, for the first reviewer.

    The query comes from the claim service itself, so the plan follows the
    code. The transaction is rolled back, so the lock it takes is released.
    """
    from django.contrib.auth import get_user_model
    from django.db import transaction

    from reviews.models import Queue
    from reviews.services.assignments import _claimable_items

    queue = Queue.objects.get(pk=queue_id)
    reviewer = get_user_model().objects.get(username=f"{REVIEWER_PREFIX}0")
    with transaction.atomic():
        query = _claimable_items(queue, reviewer).select_for_update(skip_locked=True)[:1]
        plan = query.explain(analyze=True, buffers=True)
        transaction.set_rollback(True)
    return plan


def _markdown(results: list[dict[str, Any]], *, machine: dict[str, str], command: str, uptime: str) -> str:
    lines = [
        "| items | reviewers | think (ms) | claims | claim p50 (ms) | claim p95 (ms) | claim max (ms) | submit p50 (ms) "
        "| submit p95 (ms) | claims/s | duplicates (seen / in DB) | empty claims |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|",
    ]
    for result in results:
        lines.append(
            f"| {result['items']:,} | {result['reviewers']} | {result['think_ms']:g} | {result['claims']:,} | {result['claim_p50_ms']:.1f} "
            f"| {result['claim_p95_ms']:.1f} | {result['claim_max_ms']:.1f} | {result['submit_p50_ms']:.1f} "
            f"| {result['submit_p95_ms']:.1f} | {result['claims_per_second']:.0f} "
            f"| {result['duplicates_seen']} / {result['duplicates_in_database']} | {result['empty_claims']} |"
        )
    for result in results:
        verdict = "met" if result["claim_p95_ms"] < P95_TARGET_MS else "missed"
        lines.append(f"\nTarget p95 under {P95_TARGET_MS:.0f} ms at {result['items']:,} items: {verdict}.")
    lines += ["", f"Command: `{command}`", "", f"Load before the run (`uptime`): `{uptime}`", "", "Machine:", ""]
    lines += [f"- {key}: {value}".replace("\n", " ") for key, value in machine.items()]
    return "\n".join(lines)


def _benchmark(args: argparse.Namespace) -> int:
    uptime = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    results, plans = [], {}
    with _bench_database(args.server, keep=args.keep_database) as url:
        _django_setup(url)
        from django.db import connection

        queue_id = _fixtures_create(args.reviewers)
        for size in args.sizes:
            print(f"Seeding {size} items.", file=sys.stderr)
            seed_seconds = _queue_reset(url, queue_id=queue_id, size=size)
            if args.setup_sql:
                with connection.cursor() as cursor:
                    cursor.execute(args.setup_sql)
                    cursor.execute("ANALYZE")
            print(f"Seeded in {seed_seconds:.1f} s; {args.reviewers} reviewers claim {args.claims} items each.",
                  file=sys.stderr)
            result = _round_measure(queue_id=queue_id, size=size, args=args)
            print(json.dumps(result), file=sys.stderr)
            results.append(result)
            if args.explain:
                plans[size] = _claim_plan(queue_id)
        with connection.cursor() as cursor:
            cursor.execute("SELECT version()")
            postgres_version = cursor.fetchone()[0]

    machine = machine_describe(postgres_version=postgres_version, repository=REPOSITORY)
    machine.pop("uncommitted changes under exports/", None)
    reviews_changes = subprocess.run(["git", "-C", str(REPOSITORY), "status", "--porcelain", "--", "reviews"],
                                     capture_output=True, text=True).stdout.strip()
    machine["uncommitted changes under reviews/"] = reviews_changes or "none"
    command = " ".join([sys.executable, "bench/claim.py", *sys.argv[1:]])
    print(_markdown(results, machine=machine, command=command, uptime=uptime))
    for size, plan in plans.items():
        print(f"\nClaim item query plan at {size:,} items:\n\n```\n{plan}\n```")
    failed = [result for result in results if result["duplicates_seen"] or result["duplicates_in_database"]]
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    # A terminated run still drops its database: SystemExit unwinds through the cleanup block.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    import psycopg

    try:
        return _benchmark(args)
    except psycopg.OperationalError as error:
        print(f"Benchmark failed: PostgreSQL at {args.server} is unreachable ({error}); start it or pass --server.",
              file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
