"""Serializer building blocks shared by every app's API."""

from collections.abc import Mapping

from rest_framework import serializers


class RejectUnknownFieldsMixin:
    """Reject a write whose object has a key the client may not write, with 400 naming every such key.

    This is the one rule for every write endpoint: a body names only
    writable fields. DRF would drop other keys silently, so a misspelt
    optional field would look accepted, and a client that sends
    ``reviewer``, ``state`` or another read-only field would believe it
    changed. Read-only fields are rejected too, so send back only the
    writable fields of an object you read. The writable fields are still
    validated, so one response lists the rejected keys and the invalid values.
    """

    def to_internal_value(self, data):
        if not isinstance(data, Mapping):
            return super().to_internal_value(data)
        errors = self._rejected_key_errors(data)
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as error:
            if not errors:
                raise
            errors.update(error.detail)
        if errors:
            raise serializers.ValidationError(errors, code="unknown_field")
        return value

    def _rejected_key_errors(self, data: Mapping) -> dict[str, list[str]]:
        writable = [name for name, field in self.fields.items() if not field.read_only]
        hint = f"the writable fields are {', '.join(writable)}" if writable else "send an empty body"
        errors = {}
        for name in sorted(set(data) - set(writable)):
            problem = f"Field {name!r} is read-only" if name in self.fields else f"Unknown field {name!r}"
            errors[name] = [f"{problem}; {hint}."]
        return errors


class EmptyBodySerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    """The body of an action that takes no fields (claim, release, rerun): any key is rejected with 400."""


def body_reject_fields(data) -> None:
    """Raise a 400 error naming every key of ``data``, for actions whose body must be empty."""
    EmptyBodySerializer(data=data if data else {}).is_valid(raise_exception=True)


class StrictBooleanField(serializers.BooleanField):
    """A JSON true or false. DRF's BooleanField also takes strings such as "yes", "on" and "1"."""

    default_error_messages = {"invalid": "Must be true or false, not {input!r}."}

    def to_internal_value(self, data) -> bool:
        if isinstance(data, bool):
            return data
        self.fail("invalid", input=data)
