"""Checking the options of an export request that shape the files rather than select the reviews.

The cleaned options are stored on the job as JSON, with the tool-argument
encoding resolved, so a rebuild from the job's row makes the same files.
"""

from dataclasses import asdict, dataclass
from typing import Any

from django.core.exceptions import ValidationError

from .formats import format_get, kinds_resolve

OPTION_KEYS = ("validation_ratio", "redact_pii", "tool_arguments")


@dataclass(frozen=True)
class ExportOptions:
    """How the bundle's files are made: the validation share, PII redaction and tool-argument encoding."""

    tool_arguments: str
    validation_ratio: float = 0.0
    redact_pii: bool = False

    def as_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any] | None, *, format: str) -> "ExportOptions":
        """Read stored options; jobs stored before these options existed get the defaults of ``format``."""
        data = data or {}
        return cls(
            tool_arguments=data.get("tool_arguments") or format_get(format).tool_arguments[0],
            validation_ratio=data.get("validation_ratio") or 0.0,
            redact_pii=bool(data.get("redact_pii")),
        )


def options_clean(*, kind: str, format: str, raw: Any) -> ExportOptions:
    """Check ``kind`` against ``format`` and the ``raw`` options; return the options with defaults filled in.

    Raises ValidationError keyed by the offending option (or ``kind``).
    """
    kinds_resolve(kind=kind, format=format)
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ValidationError({"options": f"Options must be an object such as {{\"validation_ratio\": 0.1}}, "
                                          f"not {raw!r}."})
    unknown = sorted(set(raw) - set(OPTION_KEYS))
    if unknown:
        raise ValidationError({"options": f"Unknown option {unknown[0]!r}; use {', '.join(OPTION_KEYS)}."})

    return ExportOptions(
        tool_arguments=_tool_arguments_clean(raw.get("tool_arguments"), format=format),
        validation_ratio=_ratio_clean(raw.get("validation_ratio")),
        redact_pii=_flag_clean(raw.get("redact_pii"), key="redact_pii"),
    )


def _tool_arguments_clean(value: Any, *, format: str) -> str:
    supported = format_get(format).tool_arguments
    if value in (None, ""):
        return supported[0]
    if value not in supported:
        raise ValidationError({"tool_arguments": (
            f"tool_arguments {value!r} is not available in format {format!r}; choose {' or '.join(supported)}."
        )})
    return value


def _ratio_clean(value: Any) -> float:
    if value is None:
        return 0.0
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < 1:
        raise ValidationError({"validation_ratio": (
            f"validation_ratio must be a number from 0 up to, but not including, 1 (such as 0.1); got {value!r}."
        )})
    return float(value)


def _flag_clean(value: Any, *, key: str) -> bool:
    if value is None:
        return False
    if not isinstance(value, bool):
        raise ValidationError({key: f"{key} must be true or false, not {value!r}."})
    return value
