"""Registry of export file writers.

Each module in this package writes one kind of data file (``sft``, ``dpo``,
``kto``, ...) in one format family (``trl``, ``openai``) and calls
``register`` at import time. Every module here is imported on first use of
the registry, so adding a file type means adding a module and its tests and
nothing else. The request check, the API, the ``export`` command, the
bundle, the validator and the dataset card all read the writers from here.
"""

import functools
import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError

from exports.examples import ReviewedExample

Row = dict[str, Any]
# A writer gets the example and the tool-argument encoding ("object" or "string") and returns its rows.
RowWriter = Callable[[ReviewedExample, str], list[Row]]

# ``kind`` shorthands that name more than one file.
KIND_BOTH = "both"
KIND_ALL = "all"
# Files of these kinds come first in a bundle, in this order; the rest follow by name.
LEADING_KINDS = ("sft", "dpo")
# ``dataset_info`` feature of a message without tool calls.
TEXT_MESSAGE_FEATURES = [{"name": "role", "dtype": "string"}, {"name": "content", "dtype": "string"}]


def messages_feature(name: str) -> dict[str, Any]:
    """Return the feature of a column ``name`` holding a list of text-only messages."""
    return {"name": name, "list": TEXT_MESSAGE_FEATURES}


def json_list_feature(name: str) -> dict[str, Any]:
    """Return the feature of a column ``name`` holding a list of objects of any shape (``datasets`` 5.x Json)."""
    return {"name": name, "list": "json"}


@dataclass(frozen=True)
class RowLayout:
    """Locations of the messages in a writer's rows, so that one validator checks every writer.

    Paths are column names, dotted for nested objects (``input.messages``).
    With ``replies`` the row is a prompt (``messages``) plus one-message
    reply lists. Without them, ``messages`` contains the whole conversation,
    reviewed reply last. ``dialect`` sets the key rules: ``trl`` allows extra
    ``meta_`` columns, and ``openai`` allows no key outside the format.
    """

    messages: str
    dialect: str
    replies: tuple[str, ...] = ()
    pair: bool = False
    label: str | None = None
    weighted: bool = False
    tools: str = "tools"

    @functools.cached_property
    def columns(self) -> frozenset[str]:
        """Top-level columns every row has."""
        names = [self.messages, *self.replies] + ([self.label] if self.label else [])
        return frozenset(name.split(".")[0] for name in names)


@dataclass(frozen=True)
class FileWriter:
    """One data file type: how a reviewed example becomes rows of that file."""

    format: str
    format_title: str
    kind: str
    kind_title: str
    file_format: str
    summary: str
    rows: RowWriter
    layout: RowLayout
    # Hugging Face ``dataset_info.features`` of a row without tool calls, or None when no fixed schema fits.
    features: list[dict[str, Any]] | None
    # Features that fit every row, tool calls included, with messages typed as JSON objects.
    json_features: list[dict[str, Any]]
    # Tool-argument encodings the writer supports; the first is the default.
    tool_arguments: tuple[str, ...] = ("object", "string")
    # Whether a needs_fix item whose rewrite equals the original loses rows in this file.
    drops_identical_pairs: bool = False


@dataclass(frozen=True)
class ExportFormat:
    """A format family and its writers, by kind."""

    name: str
    title: str
    writers: dict[str, FileWriter] = field(default_factory=dict)

    @property
    def tool_arguments(self) -> tuple[str, ...]:
        """Encodings every writer of the family supports, the default first."""
        first = next(iter(self.writers.values()))
        return tuple(encoding for encoding in first.tool_arguments
                     if all(encoding in writer.tool_arguments for writer in self.writers.values()))

    def kinds(self) -> list[str]:
        return sorted(self.writers, key=_kind_order)


_registry: dict[str, ExportFormat] = {}
_loaded = False


def _kind_order(kind: str) -> tuple[int, str]:
    return (LEADING_KINDS.index(kind) if kind in LEADING_KINDS else len(LEADING_KINDS), kind)


def register(writer: FileWriter) -> FileWriter:
    """Add ``writer`` to its format family; raise ValueError when the family already has that kind."""
    family = _registry.setdefault(writer.format, ExportFormat(name=writer.format, title=writer.format_title))
    if writer.kind in family.writers:
        raise ValueError(
            f"Export format {writer.format!r} has two {writer.kind!r} writers; rename the kind of one module."
        )
    family.writers[writer.kind] = writer
    return writer


def _load_modules() -> None:
    global _loaded
    if _loaded:
        return
    for module in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{module.name}")
    _loaded = True


def format_names() -> list[str]:
    _load_modules()
    return sorted(_registry)


def format_choices() -> list[tuple[str, str]]:
    """Return ``(name, title)`` pairs; ``ExportJob.format`` takes its choices from here."""
    _load_modules()
    return [(name, _registry[name].title) for name in sorted(_registry)]


def format_get(name: str) -> ExportFormat:
    """Return the format family called ``name``; raise ValidationError naming the choices otherwise."""
    _load_modules()
    if name not in _registry:
        raise ValidationError(
            f"Unknown export format {name!r}; choose one of {', '.join(format_names())}.", code="unknown_format"
        )
    return _registry[name]


def kind_names() -> list[str]:
    """Return every value ``kind`` accepts: the shorthands, then each file kind of any format."""
    _load_modules()
    kinds = {kind for family in _registry.values() for kind in family.writers}
    return [KIND_ALL, KIND_BOTH, *sorted(kinds, key=_kind_order)]


def kind_choices() -> list[tuple[str, str]]:
    """Return ``(name, title)`` pairs; ``ExportJob.kind`` takes its choices from here."""
    _load_modules()
    titles = {writer.kind: writer.kind_title for family in _registry.values() for writer in family.writers.values()}
    shorthands = [(KIND_ALL, "Every file of the format"), (KIND_BOTH, "SFT and DPO")]
    return shorthands + [(kind, titles[kind]) for kind in kind_names()[2:]]


def kinds_resolve(*, kind: str, format: str) -> list[str]:
    """Return the file kinds that ``kind`` requests in ``format``, in bundle order.

    Raises ValidationError, keyed by ``kind``, for an unknown kind or one the format has no writer for.
    """
    family = format_get(format)
    if kind not in kind_names():
        raise ValidationError({"kind": f"Unknown export kind {kind!r}; choose one of {', '.join(kind_names())}."})
    if kind == KIND_ALL:
        return family.kinds()
    kinds = list(LEADING_KINDS) if kind == KIND_BOTH else [kind]
    for name in kinds:
        if name not in family.writers:
            raise ValidationError({"kind": (
                f"Format {format!r} has no {name!r} file; choose one of "
                f"{', '.join(_kinds_accepted(family))}, or another format."
            )})
    return kinds


def _kinds_accepted(family: ExportFormat) -> list[str]:
    """Return the ``kind`` values that ``family`` builds: ``all``, ``both`` when it has both files, then each file."""
    shorthands = [KIND_ALL]
    if all(name in family.writers for name in LEADING_KINDS):
        shorthands.append(KIND_BOTH)
    return [*shorthands, *family.kinds()]
