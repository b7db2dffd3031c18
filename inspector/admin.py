"""The admin site: the audit trail, read-only (users and groups come with Django's admin)."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from .models import AuditEntry


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("at", "username", "action", "response_id", "remote_addr", "detail")
    list_filter = ("action", "at")
    search_fields = ("username", "response_id", "detail", "remote_addr")
    date_hierarchy = "at"
    readonly_fields = ("at", "user", "username", "action", "response_id", "detail", "remote_addr")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
