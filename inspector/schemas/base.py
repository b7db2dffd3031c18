"""The shared base of every schema and the tolerant tagged-union builder (spec §7.13)."""

from collections.abc import Callable, Iterable
from typing import Annotated, Any, Self, Union

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    PrivateAttr,
    Tag,
    ValidationError,
    ValidatorFunctionWrapHandler,
    WrapValidator,
)

UNKNOWN = "__unknown__"


class Schema(BaseModel):
    """Keeps fields the API adds later (`extra="allow"`); never forbids."""

    model_config = ConfigDict(extra="allow", populate_by_name=True, protected_namespaces=())

    _wire: Any = PrivateAttr(default=None)

    @classmethod
    def from_wire(cls, data: Any) -> Self:
        """Validate `data` and keep it as received, so the exact body can be stored."""
        obj = cls.model_validate(data)
        obj._wire = data
        return obj

    @property
    def wire(self) -> Any:
        """The JSON this object was read from (or a dump of it, if built in code)."""
        if self._wire is None:
            return self.model_dump(mode="json", by_alias=True, exclude_unset=True)
        return self._wire


class Unknown(Schema):
    """A value whose `type` we do not know, or that did not fit its type's shape."""

    type: str | None = None
    invalid_reason: str | None = None


def type_of(value: Any) -> Any:
    if isinstance(value, dict):
        return value.get("type")
    return getattr(value, "type", None)


def literal_values(cls: type[Schema]) -> tuple[str, ...]:
    """The `type` strings a class accepts, as its `type: Literal[...]` spells them."""
    annotation = cls.model_fields["type"].annotation
    return tuple(v for v in getattr(annotation, "__args__", ()) if isinstance(v, str))


def type_name(cls: type[Schema]) -> str:
    """The `type` a class is known by: its first literal (web_search, not a dated alias)."""
    return literal_values(cls)[0]


def type_names(classes: Iterable[type[Schema]]) -> tuple[str, ...]:
    return tuple(type_name(cls) for cls in classes)


def every_type_name(classes: Iterable[type[Schema]]) -> frozenset[str]:
    """Every `type` string the classes accept, dated aliases included."""
    return frozenset(value for cls in classes for value in literal_values(cls))


def tagged_union(
    classes: list[type[Schema]],
    unknown: type[Unknown],
    tag_of: Callable[[Any], Any] = type_of,
) -> Any:
    """A union that dispatches on `type` and falls back to `unknown`.

    Unknown type strings, and known ones whose payload does not fit the class, become
    `unknown` (with `invalid_reason`), so one odd item never breaks a whole page.
    """
    members: list[Any] = []
    tags: dict[str, type[Schema]] = {}
    for cls in classes:
        for value in literal_values(cls):
            tags[value] = cls
            members.append(Annotated[cls, Tag(value)])
    members.append(Annotated[unknown, Tag(UNKNOWN)])

    def discriminate(value: Any) -> str:
        tag = tag_of(value)
        return tag if tag in tags else UNKNOWN

    def fallback(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        try:
            return handler(value)
        except ValidationError as error:
            if not isinstance(value, dict):
                raise
            reason = "; ".join(
                f"{'.'.join(str(p) for p in e['loc'][1:]) or '(item)'}: {e['msg']}"
                for e in error.errors()[:3]
            )
            return unknown.model_validate({**value, "invalid_reason": reason})

    return Annotated[
        Union[tuple(members)],  # noqa: UP007 - a runtime-built union
        Discriminator(discriminate),
        WrapValidator(fallback),
    ]
