"""Request rate limits on the endpoints that start expensive work: ingest and export requests.

A view opts in with ``throttle_scopes``, a mapping of action name to scope
(``{"create": "ingest"}``); its other actions are not limited. The rate of
each scope comes from ``REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]``, which the
settings fill from ``BOOKBAG_THROTTLE_INGEST`` and ``BOOKBAG_THROTTLE_EXPORT``,
and the request counts live in Django's default cache. The limits protect
capacity only: duplicate requests stay single rows through unique
constraints, whether or not a throttle is on.
"""

from rest_framework.settings import api_settings
from rest_framework.throttling import ScopedRateThrottle

INGEST = "ingest"
EXPORT = "export"


class ActionScopedRateThrottle(ScopedRateThrottle):
    """A per-user (or, without a user, per-address) limit on the actions a view lists in ``throttle_scopes``."""

    def allow_request(self, request, view) -> bool:
        scopes = getattr(view, "throttle_scopes", {})
        self.scope = scopes.get(getattr(view, "action", None))
        if not self.scope:
            return True

        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        # Skips ScopedRateThrottle.allow_request, which would take the scope from view.throttle_scope again.
        return super(ScopedRateThrottle, self).allow_request(request, view)

    def get_rate(self) -> str | None:
        # Read at request time, unlike ScopedRateThrottle.THROTTLE_RATES (bound at import), so changed settings apply.
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)
