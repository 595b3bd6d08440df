import pkgutil

import pytest
from django.core.exceptions import ValidationError

import exports.formats
from exports.formats import (
    format_choices,
    format_get,
    format_names,
    kind_choices,
    kind_names,
    kinds_resolve,
)
from exports.models import ExportJob


def test_registry_lists_every_module():
    modules = {module.name for module in pkgutil.iter_modules(exports.formats.__path__)}
    registered = {
        writer.rows.__module__.rsplit(".", 1)[1]
        for name in format_names() for writer in format_get(name).writers.values()
    }

    assert format_names() == ["openai", "trl"]
    assert registered == modules


def test_formats_offer_their_kinds():
    assert format_get("trl").kinds() == ["sft", "dpo", "kto", "sft_messages"]
    assert format_get("openai").kinds() == ["sft", "dpo"]


def test_each_writer_describes_its_file():
    for name in format_names():
        for kind, writer in format_get(name).writers.items():
            assert writer.kind == kind
            assert writer.format == name
            assert writer.file_format.startswith(f"{name}.")
            assert writer.summary
            assert set(writer.tool_arguments) <= {"object", "string"}
            assert callable(writer.rows)


def test_tool_argument_defaults():
    assert format_get("trl").tool_arguments == ("object", "string")
    assert format_get("openai").tool_arguments == ("string",)


def test_unknown_format_names_choices():
    with pytest.raises(ValidationError) as error:
        format_get("alpaca")

    assert error.value.messages == ["Unknown export format 'alpaca'; choose one of openai, trl."]


@pytest.mark.parametrize(
    ("kind", "export_format", "kinds"),
    [
        ("both", "trl", ["sft", "dpo"]),
        ("all", "trl", ["sft", "dpo", "kto", "sft_messages"]),
        ("all", "openai", ["sft", "dpo"]),
        ("kto", "trl", ["kto"]),
        ("sft_messages", "trl", ["sft_messages"]),
    ],
)
def test_kinds_resolve(kind, export_format, kinds):
    assert kinds_resolve(kind=kind, format=export_format) == kinds


def test_kind_without_writer_is_rejected():
    with pytest.raises(ValidationError) as error:
        kinds_resolve(kind="kto", format="openai")

    assert error.value.message_dict["kind"] == [
        "Format 'openai' has no 'kto' file; choose one of all, both, sft, dpo, or another format."
    ]


def test_unknown_kind_names_choices():
    with pytest.raises(ValidationError) as error:
        kinds_resolve(kind="rlhf", format="trl")

    assert error.value.message_dict["kind"] == [
        "Unknown export kind 'rlhf'; choose one of all, both, sft, dpo, kto, sft_messages."
    ]


def test_job_choices_come_from_registry():
    assert list(ExportJob._meta.get_field("format").choices) == format_choices()
    assert [name for name, _ in ExportJob._meta.get_field("kind").choices] == kind_names()
    assert dict(kind_choices())["kto"] == "KTO (unpaired preference)"
