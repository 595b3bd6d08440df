"""Seeding of the benchmark database with reviewed items shaped like the real test data.

The templates are the hh-rlhf and tau-bench rows in ``tests/data``, converted
by the real import readers, so conversations, replies, tool calls, reference
replies and metadata keep their real shapes and lengths. Item ``n`` copies
template ``n % T``, so both sources keep their share of the files (2,354
hh-rlhf rows and 200 tau-bench trajectories). Rows go in with PostgreSQL COPY,
one transaction per batch, and skip the services: the benchmark measures the
export, and the services would make a 1M-item seed take hours.
"""

import datetime
import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reviews.ingest.formats import FORMATS, row_convert
from reviews.ingest.reading import rows_read
from reviews.ingest.records import RowDefaults
from reviews.models import Review, ReviewItem

DATA_DIR = Path(__file__).resolve().parent.parent / "tests" / "data"
TEMPLATE_FILES = (
    ("hh-rlhf", "hh-rlhf_helpful-base_test.jsonl.gz"),
    ("tau-bench", "tau-bench_gpt-4o-airline_trajectories.json"),
)
BATCH_SIZE = 20_000
REVIEWER_COUNT = 20
# Item n gets VERDICT_CYCLE[n % 20]: 60 % approved, 25 % needs_fix, 15 % rejected.
VERDICT_CYCLE = ("approved",) * 12 + ("needs_fix",) * 5 + ("rejected",) * 3
REJECT_REASONS = (
    "The reply states a fact that the conversation contradicts.",
    "The reply ignores the user's question and answers a different one.",
    "The reply takes an action the policy forbids without the user's confirmation.",
)
TOOL_CALL_REWRITE = (
    "Before I change anything on your reservation, please confirm the reservation ID and that you want me "
    "to go ahead with this change."
)
NULL = r"\N"
ITEM_MARK = "@@bench-item@@"
ITEM_COLUMNS = (
    "id", "queue_id", "source", "external_id", "conversation", "response", "reference_response", "tools",
    "model", "metadata", "content_hash", "state", "priority", "active_assignments", "final_review_id",
    "created_by_id", "created_at", "updated_at", "turn_selectable", "is_pairwise", "is_gold", "gold_verdict",
    "gold_corrected_response", "gold_preferred",
)
REVIEW_COLUMNS = (
    "id", "item_id", "assignment_id", "reviewer_id", "rubric_id", "kind", "verdict", "scores",
    "corrected_response", "reason", "time_spent_seconds", "submitted_at", "turn_index", "preferred",
    "supersedes_id", "is_current",
)


@dataclass(frozen=True)
class Template:
    """One real row, with each column already in COPY text format."""

    source: str
    external_id: str
    # The conversation's COPY text before and after the end of its first user turn, where each item
    # inserts its own number, so that no two items export the same row and deduplication keeps them all.
    conversation_head: str
    conversation_tail: str
    response: str
    reference_response: str
    tools: str
    model: str
    metadata: str
    content_hash: str
    rewrite: str


@dataclass(frozen=True)
class Target:
    """The queue, rubric and reviewers that the seeded items and reviews point at."""

    queue_id: int
    rubric_id: int
    reviewer_ids: tuple[int, ...]


def copy_text(value: str) -> str:
    """Escape ``value`` for PostgreSQL's COPY text format."""
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t")


def _copy_json(value: Any) -> str:
    if value is None:
        return NULL
    return copy_text(json.dumps(value, ensure_ascii=False))


def _conversation_split(conversation: list[dict]) -> tuple[str, str]:
    messages = [dict(message) for message in conversation]
    first_user = next(message for message in messages if message["role"] == "user")
    first_user["content"] = f"{first_user['content']}{ITEM_MARK}"
    head, tail = _copy_json(messages).split(ITEM_MARK)
    return head, tail


def _rewrite(response: dict, reference: dict | None) -> str:
    """Return a rewrite that differs from the reply: the reference reply if any, else the reply plus a sentence."""
    original = (response.get("content") or "").strip()
    if reference and (reference.get("content") or "").strip() not in ("", original):
        return reference["content"].strip()
    if not original:
        return TOOL_CALL_REWRITE
    return f"{original}\n\nLet me know if you would like me to check anything else."


def templates_load() -> list[Template]:
    """Read every row of the template files through the import readers; raise if any row is rejected."""
    templates = []
    for format_name, file_name in TEMPLATE_FILES:
        for row in rows_read(DATA_DIR / file_name):
            if row.error:
                raise ValueError(f"{file_name} {row.location} is invalid ({row.error}); restore the file from git.")
            record = row_convert(row.value, row_format=FORMATS[format_name], defaults=RowDefaults())
            templates.append(Template(
                source=copy_text(record.source), external_id=copy_text(record.external_id),
                **dict(zip(("conversation_head", "conversation_tail"), _conversation_split(record.conversation))),
                response=_copy_json(record.response),
                reference_response=_copy_json(record.reference_response), tools=_copy_json(record.tools),
                model=copy_text(record.model), metadata=_copy_json(record.metadata),
                content_hash=record.content_hash,
                rewrite=copy_text(_rewrite(record.response, record.reference_response)),
            ))
    return templates


def columns_check() -> None:
    """Raise when a model has a column that the seed does not fill, since COPY would then fail or leave it wrong."""
    for model, columns in ((ReviewItem, ITEM_COLUMNS), (Review, REVIEW_COLUMNS)):
        actual = {field.column for field in model._meta.concrete_fields}
        if actual != set(columns):
            raise RuntimeError(
                f"{model.__name__} columns {sorted(actual ^ set(columns))} differ between the model and the seed; "
                "update ITEM_COLUMNS or REVIEW_COLUMNS and the row builders in bench/seed.py."
            )


def verdict_counts(count: int) -> dict[str, int]:
    """Return how many of items 1..``count`` get each verdict."""
    counts = dict.fromkeys(Review.Verdict.values, 0)
    counts.update(Counter(VERDICT_CYCLE[number % len(VERDICT_CYCLE)] for number in range(1, count + 1)))
    return counts


def _item_line(number: int, template: Template, target: Target, moment: str) -> str:
    state = "done" if number % 10 == 0 else "reviewed"
    values = (
        str(number), str(target.queue_id), template.source, f"{template.external_id}-bench-{number}",
        f"{template.conversation_head} (item {number}){template.conversation_tail}", template.response, template.reference_response, template.tools, template.model,
        template.metadata, template.content_hash, state, "0", "0", str(number), NULL, moment, moment,
        "f", "f", "f", "", "", "",
    )
    return "\t".join(values) + "\n"


def _review_line(number: int, template: Template, target: Target, moment: str) -> str:
    verdict = VERDICT_CYCLE[number % len(VERDICT_CYCLE)]
    rewrite = template.rewrite if verdict == "needs_fix" else ""
    reason = REJECT_REASONS[number % len(REJECT_REASONS)] if verdict == "rejected" else ""
    scores = copy_text(json.dumps({"helpful": 1 + number % 5, "harmless": number % 7 != 0}))
    values = (
        str(number), str(number), NULL, str(target.reviewer_ids[number % len(target.reviewer_ids)]),
        str(target.rubric_id), "review", verdict, scores, rewrite, reason, str(30 + number % 600), moment,
        NULL, "", NULL, "t",
    )
    return "\t".join(values) + "\n"


def _moment(number: int, start: datetime.datetime) -> str:
    return (start + datetime.timedelta(seconds=number)).isoformat()


def _lines(first: int, last: int, templates: list[Template], target: Target, builder) -> Iterator[str]:
    start = datetime.datetime(2025, 1, 1, tzinfo=datetime.UTC)
    for number in range(first, last + 1):
        yield builder(number, templates[number % len(templates)], target, _moment(number, start))


def _copy(cursor, table: str, columns: tuple[str, ...], lines: Iterator[str]) -> None:
    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        block: list[str] = []
        for line in lines:
            block.append(line)
            if len(block) == 1000:
                copy.write("".join(block))
                block = []
        if block:
            copy.write("".join(block))


def items_seed(connection, *, first: int, last: int, templates: list[Template], target: Target) -> None:
    """Insert items ``first``..``last`` and their final reviews (the same ids), one transaction per batch.

    ``connection`` is a psycopg 3 connection to the benchmark database. The
    foreign keys between items and reviews are deferred, so each batch can
    insert its items before the reviews they point at.
    """
    for batch_first in range(first, last + 1, BATCH_SIZE):
        batch_last = min(batch_first + BATCH_SIZE - 1, last)
        with connection.transaction(), connection.cursor() as cursor:
            _copy(cursor, "reviews_reviewitem", ITEM_COLUMNS,
                  _lines(batch_first, batch_last, templates, target, _item_line))
            _copy(cursor, "reviews_review", REVIEW_COLUMNS,
                  _lines(batch_first, batch_last, templates, target, _review_line))
    with connection.transaction(), connection.cursor() as cursor:
        for table in ("reviews_reviewitem", "reviews_review"):
            cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), %s)", [last])
