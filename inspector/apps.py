from django.apps import AppConfig
from django.db.models.signals import post_migrate


class InspectorConfig(AppConfig):
    name = "inspector"
    verbose_name = "Responses Inspector"

    def ready(self) -> None:
        from .access import sync_roles

        # The role groups exist after every migrate, also after a flush emptied them.
        post_migrate.connect(sync_roles, sender=self)
