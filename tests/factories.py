"""Small response bodies and input items that many test modules build alike."""

from typing import Any


def response_body(response_id: str, **fields: Any) -> dict[str, Any]:
    """A completed gpt-5 response with no output; `fields` add to it or replace its own."""
    return {
        "id": response_id,
        "object": "response",
        "created_at": 1767225600,
        "status": "completed",
        "model": "gpt-5",
        "output": [],
        **fields,
    }


def user_items(count: int) -> list[dict[str, Any]]:
    """`count` user messages with ids msg_0, msg_1, …"""
    return [
        {"id": f"msg_{i}", "type": "message", "role": "user", "content": f"hi {i}"}
        for i in range(count)
    ]
