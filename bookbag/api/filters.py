"""Query-parameter filters shared by the list endpoints, and the filter backend that checks every parameter.

django-filter's own boolean filter reads an unknown value as "no filter", its
number filter passes any decimal to the database, and its date-time filter
passes offsets such as +20:00 that PostgreSQL rejects. These reject such
values, so that a mistyped parameter returns 400 naming it instead of an
unfiltered list or a database error. For the same reason the backend rejects
a query parameter that the list does not accept.
"""

import datetime

import django_filters
from django import forms
from django_filters.rest_framework import DjangoFilterBackend
from django_filters.utils import translate_validation
from django_filters.widgets import SuffixedMultiWidget
from drf_spectacular.plumbing import force_instance, is_basic_serializer
from drf_spectacular.utils import OpenApiParameter
from rest_framework.exceptions import ValidationError

# The largest value of a BigAutoField (a signed 64-bit integer).
MAX_ID = 2**63 - 1
TRUE_VALUES = ("true", "1")
FALSE_VALUES = ("false", "0")


class BooleanParameterField(forms.Field):
    """A query parameter that is ``true``/``1`` or ``false``/``0``; an empty value applies no filter."""

    default_error_messages = {"invalid": "Enter true or false."}

    def to_python(self, value) -> bool | None:
        if value in (None, ""):
            return None
        text = str(value).strip().lower()
        if text in TRUE_VALUES:
            return True
        if text in FALSE_VALUES:
            return False
        raise forms.ValidationError(self.error_messages["invalid"], code="invalid")


class BooleanFilter(django_filters.BooleanFilter):
    field_class = BooleanParameterField


class UtcDateTimeField(django_filters.fields.IsoDateTimeField):
    """An ISO 8601 time, converted to UTC; a time without an offset is read in TIME_ZONE (UTC)."""

    default_error_messages = {
        "out_of_range": "Enter a time that stays between the years 1 and 9999 once converted to UTC.",
    }

    def to_python(self, value) -> datetime.datetime | None:
        moment = super().to_python(value)
        if moment is None:
            return None
        try:
            return moment.astimezone(datetime.UTC)
        except OverflowError:
            raise forms.ValidationError(self.error_messages["out_of_range"], code="out_of_range") from None


class DateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = UtcDateTimeField


class IdFilter(django_filters.NumberFilter):
    """A whole number from 1 to the largest database id, such as a foreign key."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)


class StrictFilterBackend(DjangoFilterBackend):
    """django-filter's backend, which also rejects a list's unknown query parameters with 400.

    A list accepts its filterset's fields, its paginator's parameters
    (``cursor``, ``page_size``), DRF's ``format`` where the view's content
    negotiation reads it, and the query parameters its schema documents with
    ``extend_schema(parameters=...)``. One 400 response lists every unknown
    parameter and every invalid filter value. Only lists are checked:
    ``get_object()`` runs the filter backends too, and a detail route keeps
    DRF's behaviour of ignoring parameters it does not read.
    """

    def filter_queryset(self, request, queryset, view):
        if not _is_list_request(request, view):
            return super().filter_queryset(request, queryset, view)
        filterset = self.get_filterset(request, queryset, view)

        accepted = _accepted_parameters(filterset, view)
        hint = f"Unknown query parameter; this list accepts {', '.join(accepted)}. Check the spelling."
        errors = {name: [hint] for name in request.query_params if name not in accepted}
        if filterset is not None and not filterset.is_valid():
            errors.update(translate_validation(filterset.errors).detail)
        if errors:
            raise ValidationError(errors)

        return queryset if filterset is None else filterset.qs


def _is_list_request(request, view) -> bool:
    # Custom list actions such as webhooks/{id}/deliveries/ are lists too. Of the reads, only retrieve runs the
    # filter backends on one object, through get_object().
    return request.method in ("GET", "HEAD") and getattr(view, "action", None) != "retrieve"


def _accepted_parameters(filterset, view) -> list[str]:
    """Return the query parameters ``view`` reads, in the order: filters, paging, format, documented ones."""
    names = []
    if filterset is not None:
        for name, field in filterset.form.fields.items():
            names += _widget_parameters(name, field.widget)
    paginator = getattr(view, "paginator", None)
    if paginator is not None:
        names += [parameter["name"] for parameter in paginator.get_schema_operation_parameters(view)]
    format_parameter = getattr(view.get_content_negotiator().settings, "URL_FORMAT_OVERRIDE", None)
    if format_parameter:
        names.append(format_parameter)
    names += _documented_parameters(view)
    return list(dict.fromkeys(names))


def _widget_parameters(name: str, widget: forms.Widget) -> list[str]:
    # A range filter reads two parameters, such as created_min and created_max.
    if isinstance(widget, SuffixedMultiWidget):
        return [widget.suffixed(name, suffix) for suffix in widget.suffixes]
    if isinstance(widget, forms.MultiWidget):
        return [name + suffix for suffix in widget.widgets_names]
    return [name]


def _documented_parameters(view) -> list[str]:
    """Return the query parameters that ``extend_schema`` documents for the view's current action."""
    handler = getattr(view, getattr(view, "action", None) or view.request.method.lower(), None)
    # extend_schema stores a schema class on a decorated action, and one shared instance on a decorated view
    # class. A new instance is made in both cases because this one is changed below.
    declared = getattr(handler, "kwargs", {}).get("schema") or getattr(view, "schema", None)
    schema_class = declared if isinstance(declared, type) else type(declared)
    if not hasattr(schema_class, "get_override_parameters"):
        return []
    schema = schema_class()
    schema.view = view
    schema.method = view.request.method
    names = []
    for parameter in schema.get_override_parameters():
        if is_basic_serializer(parameter):
            names += list(force_instance(parameter).fields)
        elif isinstance(parameter, OpenApiParameter) and parameter.location == OpenApiParameter.QUERY:
            names.append(parameter.name)
    return names
