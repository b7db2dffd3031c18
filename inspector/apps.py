from django.apps import AppConfig
from django.db.models.signals import post_migrate


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
