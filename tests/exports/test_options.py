import pytest
from django.core.exceptions import ValidationError

from exports.options import ExportOptions, options_clean


def test_defaults_follow_format():
    assert options_clean(kind="both", format="trl", raw=None) == ExportOptions(tool_arguments="object")
    assert options_clean(kind="both", format="openai", raw={}) == ExportOptions(tool_arguments="string")


def test_options_are_kept():
    options = options_clean(
        kind="all", format="trl", raw={"validation_ratio": 0.2, "redact_pii": True, "tool_arguments": "string"}
    )

    assert options.as_json() == {"tool_arguments": "string", "validation_ratio": 0.2, "redact_pii": True}


def test_stored_options_round_trip():
    options = ExportOptions(tool_arguments="string", validation_ratio=0.1, redact_pii=True)

    assert ExportOptions.from_json(options.as_json(), format="trl") == options


def test_jobs_without_options_get_format_defaults():
    assert ExportOptions.from_json({}, format="openai") == ExportOptions(tool_arguments="string")


INVALID_OPTIONS = [
    ("ratio of one", "trl", {"validation_ratio": 1}, "validation_ratio",
     "validation_ratio must be a number from 0 up to, but not including, 1 (such as 0.1); got 1."),
    ("negative ratio", "trl", {"validation_ratio": -0.1}, "validation_ratio", "got -0.1."),
    ("ratio as text", "trl", {"validation_ratio": "0.1"}, "validation_ratio", "got '0.1'."),
    ("ratio as flag", "trl", {"validation_ratio": True}, "validation_ratio", "got True."),
    ("redact as text", "trl", {"redact_pii": "yes"}, "redact_pii", "redact_pii must be true or false, not 'yes'."),
    ("unknown encoding", "trl", {"tool_arguments": "yaml"}, "tool_arguments",
     "tool_arguments 'yaml' is not available in format 'trl'; choose object or string."),
    ("objects in openai", "openai", {"tool_arguments": "object"}, "tool_arguments",
     "tool_arguments 'object' is not available in format 'openai'; choose string."),
    ("unknown option", "trl", {"shuffle": True}, "options",
     "Unknown option 'shuffle'; use validation_ratio, redact_pii, tool_arguments."),
    ("not an object", "trl", ["redact_pii"], "options", "Options must be an object"),
]


@pytest.mark.parametrize(
    ("export_format", "raw", "field", "message"),
    [case[1:] for case in INVALID_OPTIONS], ids=[case[0] for case in INVALID_OPTIONS],
)
def test_invalid_options_are_rejected(export_format, raw, field, message):
    with pytest.raises(ValidationError) as error:
        options_clean(kind="both", format=export_format, raw=raw)

    assert message in error.value.message_dict[field][0]


def test_kind_missing_from_format_is_rejected():
    with pytest.raises(ValidationError) as error:
        options_clean(kind="sft_messages", format="openai", raw=None)

    assert "Format 'openai' has no 'sft_messages' file" in error.value.message_dict["kind"][0]
