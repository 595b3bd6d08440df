"""Serializer building blocks shared by every app's API."""

from collections.abc import Mapping

from rest_framework import serializers


class RejectUnknownFieldsMixin:
    """Reject a write whose object has a key that is not a field of the serializer.

    DRF drops unknown keys silently, so a misspelt optional field would look
    accepted. Read-only fields count as known, so a client may send back an
    object it read.
    """

    def to_internal_value(self, data):
        if isinstance(data, Mapping):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                expected = ", ".join(name for name, field in self.fields.items() if not field.read_only)
                raise serializers.ValidationError(
                    {unknown[0]: [f"Unknown field {unknown[0]!r}; the writable fields are {expected}."]},
                    code="unknown_field",
                )
        return super().to_internal_value(data)
