"""Admin registrations for reviews. The workspace views live in ``workspace`` and ``adjudication``."""

from . import assignments, items, queues  # noqa: F401  (each module registers its model admins)
