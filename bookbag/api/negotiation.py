from types import SimpleNamespace

from rest_framework.negotiation import DefaultContentNegotiation


class FormatFilterNegotiation(DefaultContentNegotiation):
    """Content negotiation for views whose ``format`` query parameter is a filter, not a renderer choice.

    DRF reads ``?format=`` as the response format (``URL_FORMAT_OVERRIDE``), so
    ``?format=openai`` would return 404 before the filter ran. Here only the
    Accept header chooses the renderer.
    """

    settings = SimpleNamespace(URL_FORMAT_OVERRIDE=None)
