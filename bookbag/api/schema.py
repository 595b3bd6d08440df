"""OpenAPI schema additions: the error body on every operation, and the token auth scheme.

``REST_FRAMEWORK["DEFAULT_SCHEMA_CLASS"]`` points at ``BookbagAutoSchema``;
importing this module also registers ``ScopedTokenScheme`` with
drf-spectacular.
"""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers

UNSAFE_METHODS = ("POST", "PUT", "PATCH", "DELETE")
BODY_METHODS = ("POST", "PUT", "PATCH")


class ErrorSerializer(serializers.Serializer):
    """The body of every error response."""

    code = serializers.CharField(help_text="Stable machine-readable code, e.g. invalid, not_found, throttled.")
    message = serializers.CharField(help_text="What went wrong, naming the field or object, and what to do.")
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text=(
            "Messages per field path (criteria[1].key) or query parameter, one entry for every invalid one; "
            "empty when none apply."
        ),
    )

    class Meta:
        ref_name = "Error"


ERROR_DESCRIPTIONS = {
    "400": "Invalid input: `errors` names each invalid field or query parameter.",
    "401": "No valid credentials: send `Authorization: Token <key>`.",
    "403": "The token lacks the scope this operation needs, or the role does not allow it.",
    "404": "Not found, or outside the queues and jobs the user may see.",
    "409": "Conflicts with the current state (for example a queue with items, or a job not built yet).",
    "415": "The request's Content-Type is not one this operation accepts; send application/json.",
    "429": "Too many requests: retry after the number of seconds in `Retry-After`.",
}
RETRY_AFTER_HEADER = {
    "Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait before the next request."}
}


class BookbagAutoSchema(AutoSchema):
    """drf-spectacular's schema with the error responses each operation can return."""

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        declared = set(responses) & set(ERROR_DESCRIPTIONS)
        for code in sorted(set(self._error_codes()) | declared):
            if "content" in responses.get(code, {}):
                continue
            # A view's own description of the error (set with extend_schema) wins over the generic one.
            description = responses.get(code, {}).get("description") or ERROR_DESCRIPTIONS[code]
            error = OpenApiResponse(response=ErrorSerializer, description=description)
            responses[code] = self._get_response_for_code(error, code, direction=direction)
            if code == "429":
                responses[code]["headers"] = RETRY_AFTER_HEADER
        return responses

    def _error_codes(self) -> list[str]:
        codes = ["401", "403"]
        if self.method in BODY_METHODS or self._is_list_view():
            codes.append("400")
        if "{" in self.path or self.method in BODY_METHODS:
            codes.append("404")
        if self.method in UNSAFE_METHODS:
            codes.append("409")
        if self.method in BODY_METHODS and self.get_request_serializer() is not None:
            codes.append("415")
        throttled = getattr(self.view, "throttle_scopes", {})
        if getattr(self.view, "action", None) in throttled:
            codes.append("429")
        return sorted(codes)


class ScopedTokenScheme(OpenApiAuthenticationExtension):
    target_class = "bookbag.tokens.authentication.ScopedTokenAuthentication"
    name = "tokenAuth"
    priority = 1

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": (
                "Send `Authorization: Token <key>`. `manage.py create_token USERNAME --scope SCOPE` prints a key. "
                "Scopes: ingest, review, export, read, manage; each operation needs one of them."
            ),
        }
