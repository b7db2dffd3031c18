"""A corpus of hostile responses (issue 6): every field a page renders carries script, event
handlers, `javascript:` / `data:text/html` URLs, SVG with script, CSS and template syntax; plus
very long lines, 200-level JSON, 1 MB names, NUL characters and lone surrogates.

Most of the corpus is the demo data made hostile: every demo bundle (so every item type) with
each free-text field extended by a payload, each URL replaced by a hostile one, each id changed
the same way wherever it appears (so calls still pair with their outputs and turns still chain).
Used by tests/test_hostile.py and tests/browser/test_hostile_browser.py.
"""

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

DEMO = Path(__file__).resolve().parent.parent / "inspector" / "demo"

#: What hostile script would set; the browser test checks it stays undefined.
MARKER = "__pwned"

PAYLOADS = (
    "<script>window.__pwned=1</script>",
    '<img src=x onerror="window.__pwned=1">',
    '"><svg onload="window.__pwned=1"><!--',
    "'><body onload='window.__pwned=1'>",
    "<svg><script>window.__pwned=1</script><foreignObject><iframe srcdoc=x></iframe></svg>",
    '<a href="javascript:window.__pwned=1">link</a>',
    '<iframe srcdoc="<script>parent.__pwned=1</script>"></iframe>',
    '<style>*{background:url("javascript:window.__pwned=1")}</style>',
    '<div style="background:url(javascript:window.__pwned=1)">css</div>',
    "</textarea></code></pre></template></script><script>window.__pwned=1</script>",
    '<meta http-equiv="refresh" content="0;url=javascript:window.__pwned=1">',
    '<base href="javascript:/"><link rel="stylesheet" href="data:text/css,*{display:none}">',
    '<form action="javascript:window.__pwned=1"><button formaction="javascript:1">go</button>',
    "{{ request.user.password }}{% debug %}{% load static %}{{ settings.SECRET_KEY }}",
    "${7*7} #{7*7} <%= 7*7 %>",
)
TEXT = " ".join(PAYLOADS)

#: A short payload for ids and names (they are shown everywhere, and sometimes truncated).
SHORT = "\"'><svg onload=window.__pwned=1>"

URLS = (
    "javascript:window.__pwned=1",
    "JaVaScRiPt:window.__pwned=1",
    " \tjavascript:window.__pwned=1",
    "data:text/html,<script>window.__pwned=1</script>",
    "data:text/html;base64,PHNjcmlwdD53aW5kb3cuX19wd25lZD0xPC9zY3JpcHQ+",
    "vbscript:msgbox(1)",
    "data:image/svg+xml;base64,"
    "PHN2ZyB4bWxucz0iaHR0cDovL3d3dy53My5vcmcvMjAwMC9zdmciIG9ubG9hZD0id2luZG93Ll9fcHduZWQ9MSI+"
    "PHNjcmlwdD53aW5kb3cuX19wd25lZD0xPC9zY3JpcHQ+PC9zdmc+",
    'https://evil.invalid/"><script>window.__pwned=1</script>',
    "https://evil.invalid/x?a=<script>window.__pwned=1</script>&b='onerror='",
)

#: Characters JSON writes escaped or as more than one byte: quotes, backslashes, controls,
#: a lone surrogate, U+2028, emoji.
JSON_ODD = [
    "a",
    "é",
    "😀",
    '"',
    "\\",
    "\n",
    "\t",
    "\b",
    "\f",
    "\r",
    "\x01",
    "\x1f",
    " ",
    "\ud800",
    "\u2028",
]

MARKDOWN = """

# Heading <script>window.__pwned=1</script>

[a link](javascript:window.__pwned=1) [data](data:text/html,<script>window.__pwned=1</script>)
![an image](javascript:window.__pwned=1) ![svg](data:image/svg+xml,<svg onload=window.__pwned=1>)
<javascript:window.__pwned=1> <a href="javascript:window.__pwned=1">raw link</a>
[a reference][r] <div onmouseover="window.__pwned=1">hover</div>

[r]: javascript:window.__pwned=1 "title<script>window.__pwned=1</script>"

```html" onload="window.__pwned=1
<script>window.__pwned=1</script>
```

| a<script>window.__pwned=1</script> | b |
| --- | --- |
| <img src=x onerror=window.__pwned=1> | {{ request.user }} {% debug %} |
"""

#: Keys whose string values are free text a page shows (or a list of such strings).
TEXT_KEYS = frozenset(
    {
        "text", "instructions", "description", "summary", "server_label",
        "server_description", "filename", "title", "output", "query", "queries", "code",
        "stdout", "stderr", "logs", "message", "diff", "refusal", "revised_prompt", "reason",
        "path", "context", "input", "name", "pattern", "html", "session", "error", "command",
        "working_directory", "container_id", "encrypted_content", "token", "result",
        "file_data", "authorization", "definition", "prompt_cache_key", "safety_identifier",
        "user", "file_id", "keys", "env", "detail_text", "label",
    }
)  # fmt: skip
URL_KEYS = frozenset({"url", "server_url", "image_url", "file_url"})
#: Ids that link items together: changed the same way wherever they appear.
ID_KEYS = frozenset({"id", "call_id", "approval_request_id"})


def nested(depth: int, leaf: Any = TEXT) -> Any:
    """`depth` levels of objects and arrays, alternating, around a hostile leaf."""
    value = leaf
    for level in range(depth):
        value = {f"k{level}<script>": value} if level % 2 else [value]
    return value


def hostile_id(value: str) -> str:
    return f"{value}{SHORT}"


def hostile_url(value: str) -> str:
    digest = hashlib.sha256(value.encode("utf-8", "surrogatepass")).digest()
    return URLS[digest[0] % len(URLS)]


def response_id(original: str) -> str:
    """A valid response id (it goes in URL paths), derived from the demo's."""
    return "resp_hostile_" + hashlib.sha256(original.encode()).hexdigest()[:24]


def hostile_arguments(original: str) -> str:
    """Tool arguments: the original keys with hostile values, hostile keys, 200 levels deep."""
    try:
        parsed = json.loads(original)
    except ValueError:
        return original + TEXT
    extra = {f"key{SHORT}": TEXT, "deep": nested(200), "url": URLS[0]}
    if isinstance(parsed, dict):
        return json.dumps({**{k: _value(k, v) for k, v in parsed.items()}, **extra})
    return json.dumps(extra)


def _value(key: str, value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _value(k, v) for k, v in value.items()}
    if isinstance(value, list):
        return [_value(key, v) for v in value]
    if not isinstance(value, str):
        return value
    if key in URL_KEYS:
        return hostile_url(value)
    if key == "arguments":
        return hostile_arguments(value)
    if key in ID_KEYS and not value.startswith("resp_"):
        return hostile_id(value)
    if key == "text":
        return value + " " + TEXT + MARKDOWN
    if key in TEXT_KEYS:
        return value + " " + TEXT
    return value


def hostile_metadata(metadata: Any) -> dict[str, Any]:
    found = metadata if isinstance(metadata, dict) else {}
    return {
        **{k: f"{v} {TEXT}" for k, v in found.items()},
        f"key{SHORT}": TEXT,
        "link": URLS[0],
        "nested": nested(200),
    }


def make_hostile(bundle: dict[str, Any]) -> dict[str, Any]:
    """A demo bundle with every free-text field, URL and id made hostile."""
    response = bundle["response"]
    body = {k: _value(k, v) for k, v in response.items()}
    body["id"] = response_id(response["id"])
    if response.get("previous_response_id"):
        body["previous_response_id"] = response_id(response["previous_response_id"])
    body["metadata"] = hostile_metadata(response.get("metadata"))
    items = [_value("input_items", item) for item in bundle.get("input_items") or []]
    return {**bundle, "response": body, "input_items": items}


def demo_bundles() -> Iterator[dict[str, Any]]:
    for path in sorted(DEMO.glob("*.json")):
        yield json.loads(path.read_text())


def huge_bundle() -> dict[str, Any]:
    """1 MB names, a 200,000-character line, 200 levels of JSON in arguments and metadata."""
    name = "n" * 1_000_000 + SHORT
    line = "A" * 200_000 + TEXT
    body = {
        "id": "resp_hostile_huge",
        "object": "response",
        "created_at": 1767225600,
        "status": "completed",
        "model": "gpt-5" + SHORT,
        "instructions": line,
        "metadata": {"nested": nested(200), "long": line},
        "tools": [
            {"type": "function", "name": name, "description": line,
             "parameters": {"type": "object", "properties": {name: {"type": "string"}}}},
        ],
        "output": [
            {"type": "function_call", "id": "fc_huge", "call_id": "call_huge", "name": name,
             "arguments": json.dumps({"deep": nested(200), "line": line}),
             "status": "completed"},
            {"type": "message", "id": "msg_huge", "role": "assistant", "status": "completed",
             "content": [{"type": "output_text", "text": line + MARKDOWN,
                          "annotations": [{"type": "file_citation", "file_id": name,
                                           "filename": name, "index": 3}]}]},
        ],
        "usage": {"input_tokens": 10, "output_tokens": 5, "total_tokens": 15,
                  "input_tokens_details": {"cached_tokens": 0},
                  "output_tokens_details": {"reasoning_tokens": 0}},
    }  # fmt: skip
    items = [
        {"type": "message", "id": "msg_in_huge", "role": "user",
         "content": [{"type": "input_text", "text": line},
                     {"type": "input_file", "filename": name, "file_data": URLS[3]},
                     {"type": "input_image", "detail": "auto", "image_url": URLS[3]}]},
        {"type": "function_call_output", "id": "fco_huge", "call_id": "call_huge",
         "output": json.dumps(nested(200))},
    ]  # fmt: skip
    return {"kind": "responses-inspector.bundle", "version": 1, "response": body,
            "input_items": items}  # fmt: skip


#: Characters no database text column keeps as they are: NUL (PostgreSQL refuses it) and
#: lone surrogates (not encodable as UTF-8 at all).
BROKEN = "before\x00after \ud800 lone \udfff end"


def broken_text_bundle(
    broken: str = BROKEN, response_id: str = "resp_hostile_broken_text"
) -> dict[str, Any]:
    """NUL characters and lone surrogates in text, arguments, names, metadata and items,
    both as characters and as JSON escapes inside JSON-in-a-string (tool arguments)."""
    escaped = json.dumps({"q": broken, broken: 1})  # \\u0000 and \\ud800 inside the string
    body = {
        "id": response_id,
        "object": "response",
        "created_at": 1767225601,
        "status": "completed",
        "model": "gpt-5",
        "instructions": broken,
        "metadata": {"k": broken, broken: "v"},
        "tools": [{"type": "function", "name": "f" + broken, "parameters": {"type": "object"}}],
        "output": [
            {"type": "function_call", "id": "fc_broken", "call_id": "call_broken",
             "name": "f" + broken, "arguments": escaped, "status": "completed"},
            {"type": "message", "id": "msg_broken", "role": "assistant", "status": "completed",
             "content": [{"type": "output_text", "text": broken, "annotations": []}]},
        ],
    }  # fmt: skip
    items = [
        {"type": "message", "id": "msg_in_broken", "role": "user", "content": broken},
        {"type": "function_call_output", "id": "fco_broken", "call_id": "call_broken",
         "output": escaped},
    ]  # fmt: skip
    return {"kind": "responses-inspector.bundle", "version": 1, "response": body,
            "input_items": items}  # fmt: skip


def corpus() -> list[dict[str, Any]]:
    """Every hostile bundle: the demo made hostile, the huge one, the broken-text one."""
    return [*(make_hostile(b) for b in demo_bundles()), huge_bundle(), broken_text_bundle()]


def jsonl(bundles: list[dict[str, Any]]) -> bytes:
    """Bundles as import lines (JSON escapes keep NUL and lone surrogates on the wire)."""
    return b"".join(json.dumps(b).encode("ascii") + b"\n" for b in bundles)


def hostile_events(body: dict[str, Any]) -> list[dict[str, Any]]:
    """A background response's event stream, every text hostile, one unknown event type."""
    item = {"type": "message", "id": hostile_id("msg_ev"), "role": "assistant",
            "status": "in_progress", "content": []}  # fmt: skip
    return [
        {"type": "response.created", "sequence_number": 0,
         "response": {**body, "status": "in_progress", "output": []}},
        {"type": "response.output_item.added", "sequence_number": 1, "output_index": 0,
         "item": item},
        {"type": "response.output_text.delta", "sequence_number": 2, "item_id": item["id"],
         "output_index": 0, "content_index": 0, "delta": TEXT},
        {"type": "response.output_text.delta", "sequence_number": 3, "item_id": item["id"],
         "output_index": 0, "content_index": 0, "delta": MARKDOWN},
        {"type": "response.function_call_arguments.delta", "sequence_number": 4,
         "item_id": hostile_id("fc_ev"), "output_index": 1, "delta": TEXT},
        {"type": "response.<script>window.__pwned=1</script>", "sequence_number": 5,
         "payload": TEXT, "url": URLS[0]},
        {"type": "error", "sequence_number": 6, "code": SHORT, "message": TEXT, "param": TEXT},
        {"type": "response.completed", "sequence_number": 7, "response": body},
    ]  # fmt: skip
