"""Benchmark of export speed and memory against a PostgreSQL COPY baseline.

The script creates a dedicated database, ``bookbag_bench``, and drops it at
the end. For each size N, it seeds that database up to N reviewed items.
Then it runs two child processes on the same rows and measures the wall
time and peak RSS of each:

- baseline: ``psql`` runs ``COPY (SELECT json_build_object(...)) TO STDOUT``
  over the item and final-review columns that the export reads, into a file;
- export: this script in child mode builds a both-kinds TRL bundle through
  ``export_request`` and ``export_build``, the service that workers run.

Usage, from the repository root:

    /work/venv/bin/python bench/export.py --sizes 10k,100k,1m

Sizes grow in place: the 100k step adds 90k items to the 10k seed. The
results and the machine are printed as Markdown for docs/benchmarks.md.
"""

import argparse
import json
import os
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

REPOSITORY = Path(__file__).resolve().parent.parent
if str(REPOSITORY) not in sys.path:
    sys.path.insert(0, str(REPOSITORY))

from bench import report  # noqa: E402
from bench.measure import StepFailed, child_run, machine_describe  # noqa: E402

DATABASE_NAME = "bookbag_bench"
DEFAULT_SERVER = "postgresql://postgres@127.0.0.1:5432"
SIZE_SUFFIXES = {"k": 1_000, "m": 1_000_000}
QUEUE_SLUG = "bench"
MANAGER_USERNAME = "bench-manager"
LOG_TAIL_LINES = 40
# The item and final-review columns that the export writes into rows, as one JSON object per row.
# The export's Django query fetches more: every column of the item, queue, review, rubric and reviewer.
BASELINE_SQL = """
COPY (
  SELECT json_build_object(
    'item_id', i.id, 'source', i.source, 'external_id', i.external_id, 'queue', q.slug,
    'conversation', i.conversation, 'response', i.response, 'tools', i.tools, 'model', i.model,
    'verdict', r.verdict, 'corrected_response', r.corrected_response, 'reviewer_id', r.reviewer_id,
    'submitted_at', r.submitted_at, 'rubric_slug', rb.slug, 'rubric_version', rb.version)
  FROM reviews_reviewitem i
  JOIN reviews_queue q ON q.id = i.queue_id
  JOIN reviews_review r ON r.id = i.final_review_id
  JOIN rubrics_rubric rb ON rb.id = r.rubric_id
  WHERE q.slug = '{queue}' AND i.state IN ('reviewed', 'done')
  ORDER BY i.id
) TO STDOUT
""".format(queue=QUEUE_SLUG)


def size_parse(text: str) -> int:
    """Parse ``10k``, ``100k``, ``1m`` or a plain count of items."""
    value = text.strip().lower()
    multiplier = SIZE_SUFFIXES.get(value[-1:], 1)
    digits = value[:-1] if value[-1:] in SIZE_SUFFIXES else value
    if not digits.isdigit() or int(digits) * multiplier < 1:
        raise argparse.ArgumentTypeError(f"invalid size {text!r}; write a positive count such as 10k, 100k or 1m")
    return int(digits) * multiplier


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10k,100k",
                        help="Comma-separated item counts, such as 10k,100k,1m (default: 10k,100k).")
    parser.add_argument("--server", default=DEFAULT_SERVER,
                        help=f"PostgreSQL server URL without a database name (default: {DEFAULT_SERVER}).")
    parser.add_argument("--timeout", type=float, default=3600,
                        help="Time limit of each measured child process, in seconds (default: 3600).")
    parser.add_argument("--profile", type=Path, metavar="DIR",
                        help="After each measured export, run one more under cProfile and write its stats to DIR.")
    parser.add_argument("--json", type=Path, metavar="PATH", help="Also write the results as JSON to PATH.")
    parser.add_argument("--child-export", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--child-profile", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if urlsplit(args.server).path.strip("/"):
        parser.error(f"invalid --server {args.server!r}: leave out the database name; the script uses {DATABASE_NAME}")
    if not args.child_export:
        try:
            args.sizes = sorted({size_parse(part) for part in args.sizes.split(",")})
        except argparse.ArgumentTypeError as error:
            parser.error(str(error))
    return args


def _django_setup(*, database_url: str, work_dir: Path) -> None:
    """Point the settings at the benchmark database and a scratch media folder; child processes inherit them."""
    os.environ.update({
        "DJANGO_SETTINGS_MODULE": "bookbag.settings.local",
        "DJANGO_DEBUG": "false",
        "DATABASE_URL": database_url,
        "BOOKBAG_DATA_DIR": str(work_dir),
        "BOOKBAG_MEDIA_ROOT": str(work_dir / "media"),
        "BOOKBAG_LOG_LEVEL": "WARNING",
    })
    import django

    django.setup()


@contextmanager
def _bench_database(server: str) -> Iterator[str]:
    """Create an empty ``bookbag_bench`` database, yield its URL, and drop it however the block ends."""
    import psycopg

    url = f"{server.rstrip('/')}/{DATABASE_NAME}"
    with psycopg.connect(f"{server.rstrip('/')}/postgres", autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {DATABASE_NAME} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {DATABASE_NAME}")
    try:
        yield url
    finally:
        _connections_close()
        with psycopg.connect(f"{server.rstrip('/')}/postgres", autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {DATABASE_NAME} WITH (FORCE)")
        print(f"Dropped database {DATABASE_NAME}.", file=sys.stderr)


def _connections_close() -> None:
    """Close Django's connections, if Django was set up, so that the database can be dropped."""
    if "django" not in sys.modules:
        return
    from django.conf import settings
    from django.db import connections

    if settings.configured:
        connections.close_all()


def _fixtures_create():
    """Create the manager, the reviewers, the rubric and the queue that the seeded reviews point at."""
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from bench.seed import REVIEWER_COUNT, Target
    from reviews.models import Queue
    from rubrics.models import Rubric

    call_command("migrate", verbosity=0)
    User = get_user_model()
    User.objects.create_superuser(MANAGER_USERNAME, email="", password=None)
    reviewers = User.objects.bulk_create(User(username=f"bench-reviewer-{n}") for n in range(REVIEWER_COUNT))
    rubric = Rubric.objects.create(name="Benchmark rubric", slug="bench-rubric", guidelines="Helpful and harmless.")
    queue = Queue.objects.create(name="Benchmark", slug=QUEUE_SLUG, rubric=rubric)
    return Target(queue_id=queue.pk, rubric_id=rubric.pk, reviewer_ids=tuple(user.pk for user in reviewers))


def _seed_to(url: str, *, first: int, last: int, templates, target) -> dict[str, float]:
    """Seed items ``first``..``last``, then vacuum so that neither measured reader pays for hint bits."""
    import psycopg

    from bench.seed import items_seed

    started = time.perf_counter()
    with psycopg.connect(url, autocommit=True) as connection:
        items_seed(connection, first=first, last=last, templates=templates, target=target)
        seeded = time.perf_counter()
        connection.execute("VACUUM (FREEZE, ANALYZE) reviews_reviewitem, reviews_review")
    return {"seed_seconds": seeded - started, "vacuum_seconds": time.perf_counter() - seeded}


@contextmanager
def _error_log(path: Path) -> Iterator[IO]:
    """Collect a child's error output in ``path``, and print its end when the child fails."""
    with path.open("w+") as log:
        try:
            yield log
        except StepFailed:
            log.seek(0)
            print("".join(log.readlines()[-LOG_TAIL_LINES:]), file=sys.stderr, end="")
            raise


def _baseline_measure(url: str, *, work_dir: Path, timeout: float) -> dict[str, Any]:
    output = work_dir / "baseline.jsonl"
    argv = ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", url, "-c", BASELINE_SQL]
    with output.open("wb") as stdout, _error_log(work_dir / "baseline.log") as stderr:
        run = child_run(argv, stdout=stdout, stderr=stderr, timeout=timeout)
    lines = 0
    with output.open("rb") as handle:
        while block := handle.read(1 << 20):
            lines += block.count(b"\n")
    size = output.stat().st_size
    output.unlink()
    return {**report.run_fields(run), "rows": lines, "bytes": size}


def _export_measure(*, work_dir: Path, timeout: float, profile: Path | None = None) -> dict[str, Any]:
    argv = [sys.executable, str(Path(__file__).resolve()), "--child-export"]
    if profile is not None:
        argv += ["--child-profile", str(profile)]
    output = work_dir / "export.json"
    with output.open("w") as stdout, _error_log(work_dir / "export.log") as stderr:
        run = child_run(argv, stdout=stdout, stderr=stderr, timeout=timeout)
    result = json.loads(output.read_text())
    shutil.rmtree(work_dir / "media", ignore_errors=True)
    return {**report.run_fields(run), **result}


def _size_run(url: str, size: int, *, seeded: int, templates, target, args, work_dir: Path) -> dict[str, Any]:
    from bench.seed import verdict_counts

    print(f"Seeding items {seeded + 1}..{size}.", file=sys.stderr)
    result: dict[str, Any] = {"items": size, **_seed_to(url, first=seeded + 1, last=size, templates=templates,
                                                          target=target)}
    print(f"Measuring the COPY baseline at {size} items.", file=sys.stderr)
    result["baseline"] = _baseline_measure(url, work_dir=work_dir, timeout=args.timeout)
    print(f"Measuring the export at {size} items.", file=sys.stderr)
    result["export"] = _export_measure(work_dir=work_dir, timeout=args.timeout)
    result["problems"] = report.problems_find(result, expected_verdicts=verdict_counts(size))

    if args.profile:
        print(f"Profiling the export at {size} items.", file=sys.stderr)
        args.profile.mkdir(parents=True, exist_ok=True)
        stats_path = args.profile / f"export-{size}.prof"
        _export_measure(work_dir=work_dir, timeout=args.timeout, profile=stats_path)
        report.profile_summarize(stats_path)
    print(report.result_line(result), file=sys.stderr)
    return result


def _benchmark(args: argparse.Namespace) -> int:
    work_dir = Path(tempfile.mkdtemp(prefix="bookbag-bench-"))
    results: list[dict[str, Any]] = []
    started = time.perf_counter()
    try:
        with _bench_database(args.server) as url:
            _django_setup(database_url=url, work_dir=work_dir)
            from django.db import connection

            from bench.seed import columns_check, templates_load

            columns_check()
            target = _fixtures_create()
            templates = templates_load()
            seeded = 0
            for size in args.sizes:
                results.append(_size_run(url, size, seeded=seeded, templates=templates, target=target,
                                         args=args, work_dir=work_dir))
                seeded = size
            with connection.cursor() as cursor:
                cursor.execute("SELECT version()")
                postgres_version = cursor.fetchone()[0]
    finally:
        shutil.rmtree(work_dir, ignore_errors=True)

    machine = machine_describe(postgres_version=postgres_version, repository=REPOSITORY)
    command = " ".join([sys.executable, "bench/export.py", *sys.argv[1:]])
    print(report.markdown(results, machine=machine, command=command, total_seconds=time.perf_counter() - started))
    if args.json:
        args.json.write_text(json.dumps({"machine": machine, "command": command, "results": results}, indent=2))
    return 1 if any(result["problems"] for result in results) else 0


def _child_export(args: argparse.Namespace) -> int:
    """Build one bundle of the benchmark queue in this process and print its timing and counts as JSON."""
    import django

    django.setup()
    import resource

    from django.contrib.auth import get_user_model

    from bookbag.audit.context import audit_context
    from exports.services import export_build, export_request

    requester = get_user_model().objects.get(username=MANAGER_USERNAME)
    job = export_request(requester=requester, kind="both", format="trl", filters={"queues": [QUEUE_SLUG]},
                         enqueue=False)
    rss_before_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    with audit_context(channel="command"):
        if args.child_profile:
            import cProfile

            cProfile.runctx("export_build(job_id=job.pk)", globals(), locals(), filename=str(args.child_profile))
        else:
            export_build(job_id=job.pk)
    build_seconds = time.perf_counter() - started

    job.refresh_from_db()
    if job.state != job.State.SUCCEEDED:
        print(f"Export {job.pk} ended {job.state}: {job.error}", file=sys.stderr)
        return 1
    print(json.dumps({"job_id": job.pk, "build_seconds": build_seconds, "rss_before_build_kib": rss_before_kib,
                      "counts": job.counts, "bundle_bytes": job.bundle.size}))
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    if args.child_export:
        return _child_export(args)
    # A terminated run still drops its database: SystemExit unwinds through the cleanup blocks.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    import psycopg

    try:
        return _benchmark(args)
    except StepFailed as error:
        print(f"Benchmark failed: {error}", file=sys.stderr)
        return 1
    except psycopg.OperationalError as error:
        print(f"Benchmark failed: PostgreSQL at {args.server} is unreachable ({error}); start it or pass --server.",
              file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
