"""Markdown transcripts of a response or a whole trace, for an issue tracker or an LLM.

Rendered by a plain-text template engine (autoescape off for the whole engine: Markdown is
not HTML, and `&lt;` would corrupt code). Nothing from the API can inject markup: every
value from it sits in a code span or a fenced block whose fence is longer than any run of
backticks inside, and the view serves `text/markdown` with `nosniff`.
"""

import json
import re
from dataclasses import dataclass
from functools import cache
from typing import Any

from django import template
from django.conf import settings

from . import describe, pricing, rendering, trace
from .schemas.base import type_of
from .schemas.content import RefusalPart
from .schemas.items import (
    AdditionalToolsItem,
    CompactionItem,
    CompactionTriggerItem,
    ConfigurationUpdateItem,
    ItemReferenceItem,
    MessageItem,
    ReasoningItem,
)

register = template.Library()

_TICKS = re.compile(r"`+")


@register.filter
def code(value: Any) -> str:
    """`value` as an inline code span, on one line, that nothing inside can close."""
    text = " ".join(str(value if value is not None else "").split())
    if not text:
        return "``"
    ticks = "`" * (max((len(run) for run in _TICKS.findall(text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{ticks}{pad}{text}{pad}{ticks}"


@register.filter
def fenced(value: Any, language: str = "") -> str:
    """`value` as a fenced block whose fence is longer than any backtick run inside."""
    text = str(value if value is not None else "").rstrip("\n")
    fence = "`" * max(3, max((len(run) for run in _TICKS.findall(text)), default=0) + 1)
    return f"{fence}{language}\n{text}\n{fence}"


@register.filter
def money(value: Any) -> str:
    return pricing.money(value)


@register.filter
def percent(share: float | None) -> str:
    return rendering.percent(share, 1)


@dataclass(frozen=True)
class Block:
    """One item of a transcript: a heading line, and text with its fence language."""

    heading: str
    text: str
    language: str = "text"


def _message_text(item: MessageItem) -> str:
    if isinstance(item.content, str):
        return item.content
    texts = []
    for part in item.content:
        if isinstance(part, RefusalPart):
            texts.append(f"[refusal] {part.refusal}")
        else:
            texts.append(trace.parts_text([part]))
    return "\n\n".join(texts)


def _reasoning_block(item: ReasoningItem) -> Block:
    summary = "\n\n".join(part.text for part in item.summary)
    text = summary or "\n\n".join(part.text for part in item.content or [])
    if not text:
        encrypted = item.encrypted_content
        text = f"(encrypted only, {len(encrypted)} characters)" if encrypted else "(no summary)"
    return Block("reasoning summary" if summary else "reasoning", text)


def _status(item: Any) -> str:
    status = getattr(item, "status", None)  # most items have one; an unknown one may too
    return f" ({status})" if status else ""


def _call_block(entry: trace.Entry, kind: str) -> Block:
    item, partner = entry.item, entry.partner
    where = ""
    if entry.role == "call":
        if partner is None:
            where = " → NO OUTPUT (unanswered)"
        elif partner.turn == 0:  # in a response stored after the trace (trace.answer_later)
            where = (
                f" → answered in a later response, {code(partner.response_id)} "
                f"input item {partner.position + 1}"
            )
        else:
            where = f" → answered in turn {partner.turn}"
    heading = f"{kind} {code(trace.call_name(item))}"
    call_id = getattr(item, "call_id", None) or getattr(item, "id", None)
    heading += (f" {code(call_id)}" if call_id else "") + _status(item)
    language = "json" if kind in trace.JSON_ARGUMENT_TYPES else "text"
    result = "" if entry.role == "call" else trace.answer_text(item)
    text = trace.call_arguments(item) + (f"\n\n→ {result}" if result else "")
    return Block(heading + where, text, language)


def _answer_block(entry: trace.Entry, kind: str) -> Block:
    key = trace.answer_key(entry.item)
    heading = f"{kind} for {code(key[1] if key else '')}"
    if entry.partner is not None:
        heading += f" (call in turn {entry.partner.turn})"
    return Block(heading + _status(entry.item), trace.answer_text(entry.item))


def item_block(entry: trace.Entry) -> Block:
    """What a transcript says about one item (pure: the item and its pairing)."""
    item = entry.item
    match item:
        case MessageItem():
            return Block(f"{item.role} message", _message_text(item))
        case ReasoningItem():
            return _reasoning_block(item)
        case CompactionItem():
            return Block("compaction", f"(opaque, {len(item.encrypted_content)} characters)")
        case ItemReferenceItem():
            return Block("item_reference", item.id)
        case AdditionalToolsItem():
            tools = ", ".join(_tool_label(tool) for tool in item.tools) or "none"
            return Block("additional_tools", f"From here on, more tools are available: {tools}.")
        case ConfigurationUpdateItem():
            changes = "; ".join(describe.configuration_words(item))
            said = f"From here on, {changes}." if changes else "It changes nothing known here."
            return Block("configuration_update", said)
        case CompactionTriggerItem():
            return Block("compaction_trigger", "Asks the API to compact the conversation here.")
    # Calls and answers by the type they were sent as, even one that did not fit its class.
    kind = str(type_of(item) or "unknown")
    if kind in trace.AUDITED_TYPES:
        return _call_block(entry, kind)
    if entry.role == "answer" or kind in trace.ANSWER_TYPES:
        return _answer_block(entry, kind)
    return Block(kind, json.dumps(getattr(item, "wire", None), indent=2, default=str), "json")


def _tool_label(tool: Any) -> str:
    """A tool in a few words: its type and its name (or MCP server label), if it has one."""
    name = getattr(tool, "name", None) or getattr(tool, "server_label", None)
    kind = str(type_of(tool) or "tool")
    return f"{kind} {name}" if name else kind


@dataclass(frozen=True)
class TurnText:
    turn: trace.Turn
    inputs: list[Block]
    outputs: list[Block]
    notes: list[Any]


@cache
def _engine() -> template.Engine:
    backends: list[dict[str, Any]] = settings.TEMPLATES
    dirs = [d for backend in backends for d in backend.get("DIRS", [])]
    return template.Engine(
        dirs=dirs,
        autoescape=False,
        builtins=["django.contrib.humanize.templatetags.humanize", "inspector.transcript"],
    )


def render(built: trace.Trace, notes: dict[str, list[Any]], title: str) -> str:
    """The Markdown transcript of `built` (one turn for a response, all for a trace)."""
    turns = [
        TurnText(
            turn=turn,
            inputs=[item_block(e) for e in turn.new_inputs],
            outputs=[item_block(e) for e in turn.outputs],
            notes=notes.get(turn.response.id, []),
        )
        for turn in built.turns
    ]
    context = template.Context(
        {"trace": built, "turns": turns, "title": title}, autoescape=_engine().autoescape
    )
    return _engine().get_template("inspector/transcript.md").render(context)


def trace_title(chain: Any) -> str:
    """The heading of a trace transcript (a store.Chain)."""
    count = len(chain.responses)
    title = f"Trace of {count} turn{'s' * (count != 1)} ending at {code(chain.end_id)}"
    if chain.kind == "conversation":
        title += f" (conversation {code(chain.conversation_id)})"
    if chain.missing:
        title += f"; earlier turns not stored, starting at {code(chain.missing)}"
    return title
