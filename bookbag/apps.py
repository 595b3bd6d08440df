from django.contrib.admin.apps import AdminConfig


class BookbagAdminConfig(AdminConfig):
    """Django's admin app, with Bookbag's site as ``django.contrib.admin.site``, and sign-in logging."""

    default_site = "bookbag.admin_site.BookbagAdminSite"

    def ready(self) -> None:
        super().ready()
        from django.contrib import admin

        from . import auth_admin, signin_log

        auth_admin.register(admin.site)
        signin_log.connect()
