"""Every known type has its template, and every type template is a known type."""

from pathlib import Path

import pytest

from inspector import rendering, trace
from inspector.schemas import ITEM_TYPES
from inspector.schemas.base import literal_values, type_name
from inspector.schemas.content import ANNOTATION_CLASSES, ANNOTATION_TYPES, PART_CLASSES
from inspector.schemas.environments import ENVIRONMENT_TYPES
from inspector.schemas.items import ITEM_CLASSES
from inspector.schemas.tools import TOOL_CLASSES

TEMPLATES = Path(__file__).resolve().parent.parent / "templates" / "inspector"


def type_templates(folder: str) -> set[str]:
    return {p.stem for p in (TEMPLATES / folder).glob("*.html") if not p.stem.startswith("_")}


@pytest.mark.parametrize(
    ("folder", "known"),
    [
        ("items", set(ITEM_TYPES)),
        ("content", {literal_values(c)[0] for c in PART_CLASSES}),
        ("tools", {literal_values(c)[0] for c in TOOL_CLASSES}),
        ("annotations", set(ANNOTATION_TYPES)),
        ("environments", set(ENVIRONMENT_TYPES)),
    ],
)
def test_every_known_type_has_a_template_and_every_template_is_a_known_type(folder, known):
    assert type_templates(folder) == known


@pytest.mark.parametrize("folder", ["items", "content", "tools", "annotations", "environments"])
def test_every_folder_has_an_unknown_type_fallback(folder):
    assert (TEMPLATES / folder / "_unknown.html").exists()


@pytest.mark.parametrize(
    ("folder", "classes", "dispatch"),
    [
        ("items", ITEM_CLASSES, rendering.item_templates),
        ("content", PART_CLASSES, rendering.part_templates),
        ("annotations", ANNOTATION_CLASSES, rendering.annotation_templates),
        ("tools", TOOL_CLASSES, rendering.tool_templates),
    ],
)
def test_the_dispatch_picks_each_schema_class_the_template_of_its_type(folder, classes, dispatch):
    for cls in classes:
        value = cls.model_construct(type=literal_values(cls)[-1])
        assert dispatch(value) == [
            f"inspector/{folder}/{type_name(cls)}.html",
            f"inspector/{folder}/_unknown.html",
        ]
    assert dispatch("") == [f"inspector/{folder}/_unknown.html"]


def test_every_answer_type_has_a_body_shown_beside_its_call():
    bodies = {p.stem.removeprefix("_answer_") for p in (TEMPLATES / "items").glob("_answer_*.html")}
    assert bodies == set(trace.ANSWER_TYPES) | {"unknown"}


def test_item_templates_are_all_frames_of_the_item_base():
    for name in type_templates("items"):
        text = (TEMPLATES / "items" / f"{name}.html").read_text()
        assert text.startswith('{% extends "inspector/items/_item.html" %}')
