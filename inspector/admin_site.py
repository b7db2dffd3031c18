"""The admin site: Django's, which also lets in the admin role (to read the audit trail).

Its own module, apart from admin.py: Django builds the site when admin.py first registers a
model there, and a site class defined in that very module would be built twice, the second
time empty.
"""

from django.contrib import admin
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpRequest

from . import access


class InspectorAdminSite(admin.AdminSite):
    """Django's admin site, which also lets in users who may read the audit trail (the admin
    role; Django's own lets in staff alone). They see what their permissions allow: the
    audit trail, read-only."""

    # Django's admin login form turns away all but staff; the role's users log in there too.
    login_form = AuthenticationForm

    def has_permission(self, request: HttpRequest) -> bool:
        user = request.user
        return bool(user.is_active and (user.is_staff or user.has_perm(access.AUDIT)))
