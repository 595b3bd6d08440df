"""Webhooks: managers register URLs that receive signed notices when their export jobs finish."""
