from django.contrib.admin.apps import AdminConfig


class BookbagAdminConfig(AdminConfig):
    """Django's admin app, with Bookbag's site as ``django.contrib.admin.site``, and sign-in logging."""

    default_site = "bookbag.admin_site.BookbagAdminSite"

    def ready(self) -> None:
        super().ready()
        from . import signin_log

        signin_log.connect()
