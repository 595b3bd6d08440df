"""Serializer building blocks shared by every app's API."""

from collections.abc import Mapping

from rest_framework import serializers


class RejectUnknownFieldsMixin:
    """Reject a write whose object has a key the client may not write, with 400 naming the key.

    This is the one rule for every write endpoint: a body names only
    writable fields. DRF would drop other keys silently, so a misspelt
    optional field would look accepted, and a client that sends
    ``reviewer``, ``state`` or another read-only field would believe it
    changed. Read-only fields are rejected too, so send back only the
    writable fields of an object you read.
    """

    def to_internal_value(self, data):
        if isinstance(data, Mapping):
            writable = [name for name, field in self.fields.items() if not field.read_only]
            rejected = sorted(set(data) - set(writable))
            if rejected:
                name = rejected[0]
                problem = f"Field {name!r} is read-only" if name in self.fields else f"Unknown field {name!r}"
                hint = f"the writable fields are {', '.join(writable)}" if writable else "send an empty body"
                raise serializers.ValidationError({name: [f"{problem}; {hint}."]}, code="unknown_field")
        return super().to_internal_value(data)


class EmptyBodySerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    """The body of an action that takes no fields (claim, release, rerun): any key is rejected with 400."""


def body_reject_fields(data) -> None:
    """Raise a 400 error naming the first key of ``data``, for actions whose body must be empty."""
    EmptyBodySerializer(data=data if data else {}).is_valid(raise_exception=True)


class StrictBooleanField(serializers.BooleanField):
    """A JSON true or false. DRF's BooleanField also takes strings such as "yes", "on" and "1"."""

    default_error_messages = {"invalid": "Must be true or false, not {input!r}."}

    def to_internal_value(self, data) -> bool:
        if isinstance(data, bool):
            return data
        self.fail("invalid", input=data)
