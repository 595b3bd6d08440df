"""API clients that authenticate as real clients do: with a scoped token."""

from rest_framework.test import APIClient

from bookbag.tokens.services import token_create


def token_client(user, scopes: list[str] | None = None) -> APIClient:
    """Return a client that sends a new token of ``user``; without ``scopes``, every scope the role allows."""
    _, key = token_create(user=user, scopes=scopes)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client
