"""Presentation helpers used by views and template tags: labels, dispatch, formatting."""

import json
from typing import Any

from django.conf import settings

from . import store
from .models import StoredResponse
from .schemas import Response


def item_templates(item: Any) -> list[str]:
    """Candidate templates for an item: its own type's, then the unknown-type card."""
    kind = getattr(item, "type", None)
    names = []
    if (
        isinstance(kind, str)
        and kind.replace("_", "").isalnum()
        and not getattr(item, "invalid_reason", None)
    ):
        names.append(f"inspector/items/{kind}.html")
    names.append("inspector/items/_unknown.html")
    return names


def pretty_json(value: Any) -> str:
    if hasattr(value, "wire"):
        value = value.wire
    return json.dumps(value, indent=2, ensure_ascii=False, default=str)


def response_page(stored: StoredResponse) -> dict[str, Any]:
    """Everything the response page shows, computed once."""
    response = Response.model_validate(stored.body)
    return {
        "stored": stored,
        "response": response,
        "items": store.input_items_page(stored, 1),
        "logs_url": f"{settings.PLATFORM_LOGS_URL}{stored.id}",
    }
