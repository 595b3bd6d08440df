"""Registry of export formats.

Each module in this package describes one format and calls ``register`` at
import time. Every module here is imported on first use of the registry, so
adding a format means adding a module and nothing else: the service, the API
and the ``export`` command read the list of formats from here.
"""

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError

from exports.examples import ReviewedExample

Row = dict[str, Any]
RowWriter = Callable[[ReviewedExample], list[Row]]


@dataclass(frozen=True)
class ExportFormat:
    """One training-data format: how a reviewed example becomes SFT and preference rows."""

    name: str
    title: str
    sft_format: str
    dpo_format: str
    tool_arguments: str
    training_note: str
    sft_rows: RowWriter
    dpo_rows: RowWriter


_registry: dict[str, ExportFormat] = {}
_loaded = False


def register(export_format: ExportFormat) -> ExportFormat:
    if export_format.name in _registry:
        raise ValueError(f"Export format {export_format.name!r} is registered twice; rename one of the modules.")
    _registry[export_format.name] = export_format
    return export_format


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
    """Return the format called ``name``; raise ValidationError naming the choices otherwise."""
    _load_modules()
    if name not in _registry:
        raise ValidationError(
            f"Unknown export format {name!r}; choose one of {', '.join(format_names())}.", code="unknown_format"
        )
    return _registry[name]
