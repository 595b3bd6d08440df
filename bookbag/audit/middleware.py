import uuid

from .context import audit_context


class AuditContextMiddleware:
    """Give each request an id and a channel (``api`` or ``admin``) for its audit events."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request_id = request.headers.get("X-Request-ID", "")[:64] or uuid.uuid4().hex
        channel = "api" if request.path.startswith("/api/") else "admin"
        with audit_context(channel=channel, request_id=request_id):
            response = self.get_response(request)
        response["X-Request-ID"] = request_id
        return response
