from typing import Any

from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.db.models.signals import post_delete, post_migrate


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
        from .models import StoredResponse

        # The role groups exist after every migrate, also after a flush emptied them.
        post_migrate.connect(sync_roles, sender=self)
        # Failed logins go into the audit trail (and count for login throttling, django-axes).
        user_login_failed.connect(login_failed, dispatch_uid="inspector-audit-login-failed")
        # However a response is deleted, its run follows (inspector/store/runs.py).
        post_delete.connect(
            _response_deleted, sender=StoredResponse, dispatch_uid="inspector-runs-deleted"
        )


def _response_deleted(sender: Any, instance: Any, **kwargs: Any) -> None:
    """store.runs.response_deleted, imported when a response is deleted rather than at start
    (the store is not loaded by Django's set-up; tests/test_store_package.py)."""
    from .store.runs import response_deleted

    response_deleted(sender, instance, **kwargs)
