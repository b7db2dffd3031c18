"""Pydantic models of the API's objects: one class per `type`, tolerant of unknowns.

Field names are exactly as on the wire (spec/responses-api.md). Never called "models": that
word belongs to the Django ORM in inspector/models.py.
"""

from pydantic import TypeAdapter

from .base import Schema, Unknown
from .content import *  # noqa: F403
from .items import *  # noqa: F403
from .items import ITEM_TYPES, Item
from .response import *  # noqa: F403
from .tools import *  # noqa: F403

item_adapter: TypeAdapter[Schema] = TypeAdapter(Item)

__all__ = ["ITEM_TYPES", "Item", "Schema", "Unknown", "item_adapter"]
