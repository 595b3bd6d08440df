"""Query-parameter filters shared by the list endpoints.

django-filter's own boolean filter reads an unknown value as "no filter", its
number filter passes any decimal to the database, and its date-time filter
passes offsets such as +20:00 that PostgreSQL rejects. These reject such
values, so that a mistyped parameter returns 400 naming it instead of an
unfiltered list or a database error.
"""

import datetime

import django_filters
from django import forms

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
