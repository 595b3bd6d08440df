"""API views; routes register on bookbag.api.routers.router."""
