"""Template filters: thin wrappers over rendering.py."""

from typing import Any

from django import template

from .. import rendering

register = template.Library()


@register.filter
def item_templates(item: Any) -> list[str]:
    return rendering.item_templates(item)


@register.filter
def pretty_json(value: Any) -> str:
    return rendering.pretty_json(value)
