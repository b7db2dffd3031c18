"""Item anchors: one name per item, the same on the response page, the trace and in notes."""

import pytest

from inspector import anchors, rendering, trace
from inspector.schemas import item_adapter


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({"type": "message", "id": "msg_1", "role": "user", "content": "hi"}, "item-msg_1"),
        ({"type": "message", "role": "user", "content": "hi"}, "item-output-3"),
        ({"type": "message", "id": "msg 1/x", "role": "user", "content": ""}, "item-output-3"),
        ({"type": "message", "id": "m" * 201, "role": "user", "content": ""}, "item-output-3"),
        ({"type": "item_reference", "id": "msg_1"}, "item-output-3"),
        ({"type": "local_shell_call_output", "id": "call_1", "output": ""}, "item-output-3"),
        ({"type": "no_such_type", "id": "x_1"}, "item-output-3"),
        ({"type": "function_call", "id": "fc_1", "name": "f"}, "item-output-3"),  # no call_id
    ],
)
def test_an_item_is_named_by_its_own_id_else_by_its_place(raw, expected):
    item = item_adapter.validate_python(raw)
    assert anchors.item_anchor(item, "output", 3) == expected
    assert rendering.Row(item, "output", 3, "resp_1").anchor == expected
    assert trace.Entry(1, "output", 3, item).anchor == expected
    assert anchors.valid_anchor(expected)
