"""The Celery application; ``celery -A bookbag worker`` runs Bookbag's tasks."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bookbag.settings.local")

app = Celery("bookbag")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
