import pkgutil

import pytest
from django.core.exceptions import ValidationError

import exports.formats
from exports.formats import format_choices, format_get, format_names
from exports.models import ExportJob


def test_registry_lists_every_module():
    modules = {module.name for module in pkgutil.iter_modules(exports.formats.__path__)}

    assert format_names() == ["openai", "trl"]
    assert len(modules) == len(format_names())


def test_each_format_describes_its_files():
    for name in format_names():
        export_format = format_get(name)
        assert export_format.sft_format
        assert export_format.dpo_format
        assert export_format.tool_arguments in ("object", "json_string")
        assert callable(export_format.sft_rows)
        assert callable(export_format.dpo_rows)


def test_unknown_format_names_choices():
    with pytest.raises(ValidationError) as error:
        format_get("alpaca")

    assert error.value.messages == ["Unknown export format 'alpaca'; choose one of openai, trl."]


def test_job_format_choices_come_from_registry():
    field = ExportJob._meta.get_field("format")

    assert list(field.choices) == format_choices()
