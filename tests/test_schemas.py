"""Schema tolerance: unknown types, odd shapes and null details never break parsing."""

import pytest

from inspector.schemas import ITEM_TYPES, Response, item_adapter
from inspector.schemas.base import Unknown
from tests.test_demo_data_matches_openai_types import (
    SPEC_INPUT_ITEM_TYPES,
    SPEC_OUTPUT_ITEM_TYPES,
)


@pytest.mark.parametrize(
    ("raw", "expected_class", "expected_type"),
    [
        ({"type": "brand_new_item", "x": 1}, "UnknownItem", "brand_new_item"),
        ({"type": "function_call", "name": "f"}, "UnknownItem", "function_call"),
        ({"role": "user", "content": "hi"}, "MessageItem", "message"),
        ({"id": "msg_1"}, "ItemReferenceItem", "item_reference"),
        (
            {"type": "function_call", "call_id": "c", "name": "f"},
            "FunctionCallItem",
            "function_call",
        ),
        (
            {"type": "web_search_call", "id": "ws", "action": {"type": "find"}},
            "WebSearchCallItem",
            "web_search_call",
        ),
    ],
)
def test_items_parse_to_their_class_or_fall_back_to_unknown(raw, expected_class, expected_type):
    item = item_adapter.validate_python(raw)
    assert type(item).__name__ == expected_class
    assert item.type == expected_type


def test_a_known_type_with_the_wrong_shape_says_why():
    item = item_adapter.validate_python({"type": "function_call", "name": "f"})
    assert isinstance(item, Unknown)
    assert "call_id" in item.invalid_reason


def test_unknown_fields_are_kept():
    item = item_adapter.validate_python(
        {"type": "image_generation_call", "id": "ig", "revised_prompt": "a cat"}
    )
    assert item.model_extra == {"revised_prompt": "a cat"}


def test_null_usage_details_read_as_zero():
    response = Response.model_validate(
        {
            "id": "resp_1",
            "usage": {
                "input_tokens": 5,
                "input_tokens_details": None,
                "output_tokens": 1,
                "output_tokens_details": None,
                "total_tokens": 6,
            },
        }
    )
    assert response.usage.input_tokens_details.cached_tokens == 0
    assert response.usage.output_tokens_details.reasoning_tokens == 0


def test_newer_usage_fields_are_read():
    response = Response.model_validate(
        {
            "id": "resp_1",
            "usage": {
                "input_tokens": 5,
                "input_tokens_details": {"cached_tokens": 1, "cache_write_tokens": 3},
            },
        }
    )
    assert response.usage.input_tokens_details.cache_write_tokens == 3


def test_the_wire_body_is_kept_exactly():
    body = {"id": "resp_1", "created_at": 1767225600, "zzz": [1, 2], "model": "m"}
    assert Response.from_wire(body).wire is body


def test_every_item_type_of_the_spec_has_a_class():
    # The classes beyond the spec are the SDK's newer types: tests/test_sdk_type_coverage.py.
    assert set(SPEC_OUTPUT_ITEM_TYPES) | set(SPEC_INPUT_ITEM_TYPES) <= set(ITEM_TYPES)
