from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.db.models.signals import post_migrate


class InspectorAdminConfig(admin_apps.AdminConfig):
    """Django's admin with this project's site (inspector/admin_site.py); named in INSTALLED_APPS,
    so not this module's default (InspectorConfig is)."""

    default = False
    default_site = "inspector.admin_site.InspectorAdminSite"


class InspectorConfig(AppConfig):
    name = "inspector"
    verbose_name = "Responses Inspector"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_login_failed

        from .access import sync_roles
        from .audit import login_failed

        # The role groups exist after every migrate, also after a flush emptied them.
        post_migrate.connect(sync_roles, sender=self)
        # Failed logins go into the audit trail (and count for login throttling, django-axes).
        user_login_failed.connect(login_failed, dispatch_uid="inspector-audit-login-failed")
