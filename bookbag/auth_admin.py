"""User and group admins that return 404, not 403 or a redirect, for an account the user may not view.

Django's own admins keep their model permissions. Only the response for
an object out of reach changes, as in every other Bookbag admin.
"""

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group

from .admin_site import ScopedObjectAdminMixin


class ScopedUserAdmin(ScopedObjectAdminMixin, UserAdmin):
    pass


class ScopedGroupAdmin(ScopedObjectAdminMixin, GroupAdmin):
    pass


def register(site: admin.AdminSite) -> None:
    """Replace Django's user and group admins on ``site``; call once the admin modules are loaded."""
    User = get_user_model()
    for model, model_admin in ((User, ScopedUserAdmin), (Group, ScopedGroupAdmin)):
        if site.is_registered(model):
            site.unregister(model)
        site.register(model, model_admin)
