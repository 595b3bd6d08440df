"""Build POST data for Django admin change forms from the page that rendered them."""

from typing import Any


def _add_form(data: dict[str, Any], form) -> None:
    for name, field in form.fields.items():
        value = form[name].value()
        if value is False:
            continue
        if value is True:
            value = "on"
        elif value is None:
            value = ""
        data[form.add_prefix(name)] = value
        if field.show_hidden_initial:
            # Fields with callable defaults render their initial value in a hidden input, as browsers post it.
            data[form.add_initial_prefix(name)] = value


def changeform_data(response) -> dict[str, Any]:
    """Return the POST data that submits the admin change form in ``response`` as rendered.

    Tests change the entries they care about and post the rest unchanged,
    inline formsets and their management forms included.
    """
    data: dict[str, Any] = {}
    _add_form(data, response.context["adminform"].form)
    for inline in response.context["inline_admin_formsets"]:
        _add_form(data, inline.formset.management_form)
        for form in inline.formset.forms:
            _add_form(data, form)
    return data
