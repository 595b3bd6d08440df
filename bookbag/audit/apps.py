from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "bookbag.audit"
    label = "audit"
    verbose_name = "Audit history"
