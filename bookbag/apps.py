from django.contrib.admin.apps import AdminConfig


class BookbagAdminConfig(AdminConfig):
    """Django's admin app, with Bookbag's site as ``django.contrib.admin.site``."""

    default_site = "bookbag.admin_site.BookbagAdminSite"
