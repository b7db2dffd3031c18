import pytest

from inspector import store
from inspector.models import ToolCall

pytestmark = pytest.mark.django_db


def _call(n):
    return {
        "type": "function_call",
        "id": f"fc_{n}",
        "call_id": f"call_{n}",
        "name": "lookup",
        "arguments": "{}",
        "status": "completed",
    }


def test_a_response_with_thousands_of_tool_calls_is_stored_and_indexed():
    # One OR clause per call once broke SQLite ("Expression tree is too large").
    first = {
        "id": "resp_many1",
        "object": "response",
        "model": "gpt-5",
        "status": "completed",
        "output": [_call(n) for n in range(1500)],
        "tools": [],
    }
    store.save_bundle(first, [], source="import")
    answers = [
        {
            "type": "function_call_output",
            "id": f"fco_{n}",
            "call_id": f"call_{n}",
            "output": "ok",
            "status": "completed",
        }
        for n in range(1500)
    ]
    second = {
        "id": "resp_many2",
        "object": "response",
        "model": "gpt-5",
        "status": "completed",
        "previous_response_id": "resp_many1",
        "output": [],
        "tools": [],
    }
    store.save_bundle(second, answers, source="import")
    assert ToolCall.objects.filter(response_id="resp_many1").count() == 1500
    assert ToolCall.objects.filter(response_id="resp_many1", answered=True).count() == 1500
