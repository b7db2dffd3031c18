"""Real-shaped data the benchmarks generate for themselves: responses, agent inputs, chains.

Deterministic for a seed. Shapes follow spec/responses-api.md (sections 2-4): messages with
input_text / output_text parts, reasoning with summaries, function calls with their outputs.
"""

import json
import random
from pathlib import Path
from typing import Any

START = 1_767_225_600  # 2026-01-01T00:00:00Z

_VOCABULARY = """
the of and to in is that for it as was with be by on not this are or from at which but have an
they you were there been one all we their has would when if so what order refund customer parcel
shipment invoice delayed report revenue quarter growth agent tool call search result summary
answer question account billing plan upgrade warehouse carrier
"""
WORDS = tuple(_VOCABULARY.split())
TOOLS = [
    {
        "type": "function",
        "name": "lookup_order",
        "description": "Fetch an order by its public order number, with shipment tracking.",
        "parameters": {
            "type": "object",
            "properties": {
                "order_number": {"type": "string"},
                "include_tracking": {"type": "boolean"},
            },
            "required": ["order_number", "include_tracking"],
            "additionalProperties": False,
        },
        "strict": True,
    },
    {
        "type": "function",
        "name": "search_docs",
        "description": "Search the support handbook.",
        "parameters": {
            "type": "object",
            "properties": {"query": {"type": "string"}},
            "required": ["query"],
            "additionalProperties": False,
        },
        "strict": True,
    },
]


def sentence(rng: random.Random) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(6, 24))).capitalize() + "."


def prose(rng: random.Random, chars: int) -> str:
    """Markdown as a model writes it: headings, paragraphs, lists, now and then a code block."""
    parts: list[str] = []
    size = 0
    while size < chars:
        kind = rng.random()
        if kind < 0.08:
            block = f"## {sentence(rng)[:-1]}\n\n"
        elif kind < 0.2:
            block = "".join(f"- {sentence(rng)}\n" for _ in range(rng.randint(2, 6))) + "\n"
        elif kind < 0.25:
            block = "```python\nfor order in orders:\n    total += order.amount\n```\n\n"
        else:
            block = " ".join(sentence(rng) for _ in range(rng.randint(2, 7))) + "\n\n"
        parts.append(block)
        size += len(block)
    return "".join(parts)[:chars]


def message(item_id: str, role: str, text: str) -> dict[str, Any]:
    kind = "output_text" if role == "assistant" else "input_text"
    part: dict[str, Any] = {"type": kind, "text": text}
    if kind == "output_text":
        part["annotations"] = []
    return {
        "type": "message",
        "id": item_id,
        "role": role,
        "status": "completed",
        "content": [part],
    }


def reasoning(item_id: str, rng: random.Random) -> dict[str, Any]:
    return {
        "type": "reasoning",
        "id": item_id,
        "summary": [{"type": "summary_text", "text": f"**Next step**\n\n{sentence(rng)}"}],
        "encrypted_content": "gAAAAAB" + "x" * rng.randint(200, 800),
    }


def function_call(item_id: str, call_id: str, rng: random.Random) -> dict[str, Any]:
    if rng.random() < 0.5:
        name, args = "lookup_order", {"order_number": f"A-{rng.randint(10000, 99999)}"}
        args["include_tracking"] = True
    else:
        name, args = "search_docs", {"query": sentence(rng)}
    return {
        "type": "function_call",
        "id": item_id,
        "call_id": call_id,
        "name": name,
        "arguments": json.dumps(args),
        "status": "completed",
    }


def function_output(item_id: str, call_id: str, rng: random.Random) -> dict[str, Any]:
    result = {
        "status": rng.choice(["shipped", "delivered", "delayed"]),
        "events": [{"at": START + n * 3600, "note": sentence(rng)} for n in range(3)],
    }
    return {
        "type": "function_call_output",
        "id": item_id,
        "call_id": call_id,
        "output": json.dumps(result),
        "status": "completed",
    }


def agent_items(count: int, rng: random.Random, prefix: str) -> list[dict[str, Any]]:
    """`count` input items of an agent run: a question, then steps of reasoning, a call, its
    output and a short note, with ids unique under `prefix`."""
    items: list[dict[str, Any]] = []
    n = 0
    while len(items) < count:
        step = n % 5
        tag = f"{prefix}{n:06d}"
        if step == 0:
            items.append(message(f"msg_u{tag}", "user", " ".join(sentence(rng) for _ in range(3))))
        elif step == 1:
            items.append(reasoning(f"rs_{tag}", rng))
        elif step == 2:
            items.append(function_call(f"fc_{tag}", f"call_{tag}", rng))
        elif step == 3:
            items.append(function_output(f"fco_{tag}", f"call_{prefix}{n - 1:06d}", rng))
        else:
            items.append(message(f"msg_a{tag}", "assistant", sentence(rng)))
        n += 1
    return items


def usage(input_tokens: int, output_tokens: int) -> dict[str, Any]:
    return {
        "input_tokens": input_tokens,
        "input_tokens_details": {"cached_tokens": input_tokens // 2},
        "output_tokens": output_tokens,
        "output_tokens_details": {"reasoning_tokens": output_tokens // 4},
        "total_tokens": input_tokens + output_tokens,
    }


def response(
    response_id: str,
    output: list[dict[str, Any]],
    *,
    created: int = START,
    previous: str | None = None,
    input_tokens: int = 1200,
    output_tokens: int = 300,
    model: str = "gpt-5",
) -> dict[str, Any]:
    """A completed response body with every top-level field the API sends (spec §2)."""
    return {
        "id": response_id,
        "object": "response",
        "created_at": created,
        "status": "completed",
        "background": False,
        "completed_at": created + 7,
        "conversation": None,
        "error": None,
        "incomplete_details": None,
        "instructions": "You are an order-support agent. Look orders up before answering.",
        "max_output_tokens": None,
        "max_tool_calls": None,
        "model": model,
        "output": output,
        "parallel_tool_calls": True,
        "previous_response_id": previous,
        "prompt_cache_key": "support-agent:v7",
        "reasoning": {"effort": "medium", "summary": "auto"},
        "safety_identifier": "u_bench",
        "service_tier": "default",
        "store": True,
        "temperature": 1.0,
        "text": {"format": {"type": "text"}, "verbosity": "medium"},
        "tool_choice": "auto",
        "tools": TOOLS,
        "top_logprobs": 0,
        "top_p": 1.0,
        "truncation": "disabled",
        "usage": usage(input_tokens, output_tokens),
        "user": None,
        "metadata": {"customer": "c42", "env": "bench"},
    }


def huge_response(response_id: str, items: int, output_chars: int) -> tuple[dict[str, Any], list]:
    """A long agent run: `items` input items and one answer of `output_chars` characters."""
    rng = random.Random(7)
    output = [
        reasoning(f"rs_{response_id}", rng),
        message(f"msg_{response_id}", "assistant", prose(rng, output_chars)),
    ]
    body = response(response_id, output, input_tokens=400_000, output_tokens=500_000)
    return body, agent_items(items, rng, prefix=response_id[-6:])


def small_response(response_id: str) -> tuple[dict[str, Any], list]:
    """One question, one short answer."""
    rng = random.Random(8)
    output = [message(f"msg_{response_id}", "assistant", sentence(rng))]
    items = [message(f"msg_u{response_id}", "user", sentence(rng))]
    return response(response_id, output, input_tokens=40, output_tokens=20), items


def chain(prefix: str, turns: int) -> list[tuple[dict[str, Any], list]]:
    """An agent run linked by previous_response_id: each turn calls a tool, the next turn
    sends its output back (and now and then a user message); the last turn answers."""
    rng = random.Random(9)
    out: list[tuple[dict[str, Any], list]] = []
    previous = None
    for turn in range(turns):
        rid = f"resp_{prefix}{turn:04d}"
        tag = f"{prefix}{turn:04d}"
        if turn == 0:
            items = [message(f"msg_u{tag}", "user", " ".join(sentence(rng) for _ in range(4)))]
        else:
            last_call = out[-1][0]["output"][-1]
            items = [function_output(f"fco_{tag}", last_call["call_id"], rng)]
            if turn % 7 == 0:
                items.append(message(f"msg_u{tag}", "user", sentence(rng)))
        if turn == turns - 1:
            output = [
                reasoning(f"rs_{tag}", rng),
                message(f"msg_{tag}", "assistant", prose(rng, 1500)),
            ]
        else:
            output = [reasoning(f"rs_{tag}", rng), function_call(f"fc_{tag}", f"call_{tag}", rng)]
        body = response(
            rid,
            output,
            created=START + turn * 30,
            previous=previous,
            input_tokens=2000 + 600 * turn,
            output_tokens=200,
        )
        out.append((body, items))
        previous = rid
    return out


def bundle(body: dict[str, Any], items: list[dict[str, Any]]) -> dict[str, Any]:
    """The dashboard's export format (store.export_bundle), as import reads it."""
    return {
        "kind": "responses-inspector.bundle",
        "version": 1,
        "response": body,
        "input_items": items,
        "input_items_complete": True,
    }


class ProsePool:
    """Slices of one long Markdown text: writing 200 MB of prose word by word takes minutes."""

    def __init__(self, rng: random.Random, size: int = 1_000_000) -> None:
        self.text = prose(rng, size)
        self.rng = rng

    def take(self, chars: int) -> str:
        start = self.rng.randrange(0, len(self.text) - chars)
        return self.text[start : start + chars]


def import_line(number: int, prefix: str, pool: ProsePool) -> str:
    """One JSONL line of about 25 KB: a bundle of a response with a dozen input items."""
    rng = pool.rng
    rid = f"resp_{prefix}{number:08d}"
    items = agent_items(12, rng, prefix=f"{prefix}{number:08d}_")
    if rng.random() < 0.5:
        answer = message(f"msg_{rid}", "assistant", pool.take(18_000))
        output = [reasoning(f"rs_{rid}", rng), answer]
    else:
        output = [reasoning(f"rs_{rid}", rng), function_call(f"fc_{rid}", f"call_{rid}", rng)]
        items.append(message(f"msg_x{rid}", "user", pool.take(18_000)))
    model = rng.choice(["gpt-5", "gpt-5-mini"])
    body = response(rid, output, created=START + number * 60, model=model)
    return json.dumps(bundle(body, items))


def write_jsonl(path: Path, megabytes: float, prefix: str, seed: int = 11) -> int:
    """A JSONL file of about `megabytes` of bundles; returns how many lines it has."""
    pool = ProsePool(random.Random(seed))
    target, size, number = int(megabytes * 1_000_000), 0, 0
    with path.open("w") as handle:
        while size < target:
            line = import_line(number, prefix, pool) + "\n"
            handle.write(line)
            size += len(line)
            number += 1
    return number
