"""What went wrong, one notion for every page: the response page's Problems box, the list's
badges and filter, the trace and /tool-calls/ all ask this module.

Pure functions over schema objects and audited calls. A problem has a kind (KINDS: what the
list filters on), a level, a sentence and the place of the item it is about. A response's
own problems come from its body (`of_response`, `of_item`); a tool call's from its audit
(trace.audit_call), as the tool-call index keeps it (`of_row`, a ToolCall row) or fresh
(`of_audit`, the trace, read as such a row): `of_row` decides for both, so a shell call that
exited 1 is the same problem on every page.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from django.contrib.humanize.templatetags.humanize import intcomma

from . import trace
from .rendering import error_text, item_name
from .schemas.base import type_name, type_of
from .schemas.content import RefusalPart
from .schemas.items import McpApprovalRequestItem, MessageItem
from .schemas.response import Response

#: Problem kinds, in the order a page lists them: (kind, label). Filters use the kind.
KINDS: tuple[tuple[str, str], ...] = (
    ("error", "response failed"),
    ("incomplete", "incomplete"),
    ("failed-call", "tool call failed"),
    ("shell", "shell exit ≠ 0 or timed out"),
    ("refusal", "refusal"),
    ("unanswered", "no output (unanswered)"),
    ("approval", "approval pending or denied"),
    ("arguments", "arguments break the tool's schema"),
)
LABELS = dict(KINDS)
#: Kinds only a call's answer can take away (a later response answers it, approves it): the
#: rest never go away by what another response brings (store/tool_call_index.py).
ANSWERABLE = frozenset({"unanswered", "approval"})
#: The approval request's own type: it waits for approval; it is not an unanswered call.
_APPROVAL_REQUEST = type_name(McpApprovalRequestItem)


@dataclass(frozen=True)
class Problem:
    """One thing that went wrong, in words, and where (no section: the response itself)."""

    kind: str
    level: str  # "error" or "warning"
    text: str
    section: str = ""
    position: int = 0
    #: The item's anchor when the page that lists the problem shows the item, else "".
    anchor: str = ""

    @property
    def label(self) -> str:
        return LABELS[self.kind]

    @property
    def number(self) -> int:
        """The item's number as people count (input item 3 is position 2)."""
        return self.position + 1


def kinds(problems: Iterable[Problem]) -> list[str]:
    """The kinds among `problems`, in KINDS order, each once."""
    found = {problem.kind for problem in problems}
    return [kind for kind, _ in KINDS if kind in found]


def sort(problems: Iterable[Problem]) -> list[Problem]:
    """Errors first, then by kind, then by place."""
    order = {kind: n for n, (kind, _) in enumerate(KINDS)}
    places = {"": 0, "instructions": 1, "input": 2, "output": 3}
    return sorted(
        problems,
        key=lambda p: (
            p.level != "error",
            order[p.kind],
            places.get(p.section, 4),
            p.position,
        ),
    )


# --- the response itself ------------------------------------------------------------------


def incomplete_words(response: Response) -> str:
    reason = response.incomplete_details.reason if response.incomplete_details else None
    if reason == "max_output_tokens":
        limit = response.max_output_tokens
        used = response.usage.output_tokens if response.usage else None
        text = "Stopped at the output limit"
        if limit is not None:
            text += f": max_output_tokens is {intcomma(limit)}"
            if used is not None:
                text += f" and {intcomma(used)} tokens were generated"
                if response.usage and response.usage.output_tokens_details.reasoning_tokens:
                    reasoning = response.usage.output_tokens_details.reasoning_tokens
                    text += f" ({intcomma(reasoning)} of them reasoning)"
        return text + "."
    if reason == "content_filter":
        return "Stopped by the content filter: the output was cut where the filter fired."
    if reason:
        return f"Incomplete: {reason}."
    return "Incomplete, with no reason given."


def of_response(response: Response) -> list[Problem]:
    """The response failed, stopped short or was cancelled (spec §2, §7.19)."""
    out = []
    if response.error is not None:
        code = response.error.code or "error"
        text = f"The response failed ({code}): {response.error.message}"
        out.append(Problem("error", "error", text))
    if response.incomplete_details is not None or response.status == "incomplete":
        out.append(Problem("incomplete", "warning", incomplete_words(response)))
    if response.status == "cancelled":
        text = "The response was cancelled before it finished."
        out.append(Problem("incomplete", "warning", text))
    return out


# --- one item ------------------------------------------------------------------------------


def item_failure(item: object) -> str | None:
    """Why an item failed, in words, or None if it did not."""
    message = error_text(getattr(item, "error", None))
    if getattr(item, "status", None) == "failed":
        detail = message or (
            getattr(item, "output", None) if isinstance(getattr(item, "output", None), str) else ""
        )
        return f"failed: {detail}" if detail else "failed"
    if message:
        return f"error: {message}"
    return None


def _where(section: str, position: int) -> str:
    noun = {"input": "Input item", "output": "Output item", "instructions": "Instruction"}
    return f"{noun.get(section, section.capitalize())} {position + 1}"


def _short(text: str, limit: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def of_item(item: object, section: str, position: int, anchor: str = "") -> list[Problem]:
    """The problems of one item that is not an audited call: a refusal, a failure (an MCP
    server whose tools could not be listed). Calls go through `of_row`, with their answer."""
    where = _where(section, position)
    if isinstance(item, MessageItem) and not isinstance(item.content, str):
        return [
            Problem(
                "refusal",
                "warning",
                f"{where}, {item.role} message: refused: “{_short(part.refusal)}”",
                section,
                position,
                anchor,
            )
            for part in item.content
            if isinstance(part, RefusalPart)
        ]
    if type_of(item) in trace.AUDITED_TYPES:
        return []
    why = item_failure(item)
    if why is None:
        return []
    text = f"{where}, {item_name(item)}: {why}"
    return [Problem("failed-call", "error", text, section, position, anchor)]


def of_items(rows: Iterable[Any]) -> list[Problem]:
    """`of_item` over page rows (rendering.Row, trace.Entry: item, section, position, anchor)."""
    return [
        problem
        for row in rows
        for problem in of_item(row.item, row.section, row.position, row.anchor)
    ]


# --- one tool call ---------------------------------------------------------------------------


def of_row(call: Any, anchor: str = "") -> list[Problem]:
    """The problems of one audited call: trace.audit_call's verdict as the tool-call index
    keeps it (a ToolCall row, or anything with its fields: type, name, arguments, status,
    output, failed, no_output, bad_json, breaks_schema, schema_error, approval, where,
    position). `status` is the answer's (a shell's: "exit 1", "timed out"); `approval`
    "pending", "approved", "denied" or ""."""
    section, position = call.where, call.position
    where = f"{_where(section, position)}, {call.name or call.type}"
    out = []
    if call.failed and call.type in trace.SHELL_TYPES:
        command = _short(call.arguments.replace("\n", "; "), 80)
        text = f"{_where(section, position)}, shell “{command}”: {call.status or 'failed'}"
        out.append(Problem("shell", "error", text, section, position, anchor))
    elif call.failed:
        detail = f": {_short(call.output.removeprefix('error: '))}" if call.output else ""
        text = f"{where}: failed{detail}"
        out.append(Problem("failed-call", "error", text, section, position, anchor))
    if call.no_output and call.type != _APPROVAL_REQUEST:
        text = f"{where}: no answer in this response or any stored one"
        out.append(Problem("unanswered", "warning", text, section, position, anchor))
    if call.approval == "pending":
        text = f"{where}: waits for approval (no mcp_approval_response is stored)"
        out.append(Problem("approval", "warning", text, section, position, anchor))
    elif call.approval == "denied":
        text = f"{where}: approval denied"
        out.append(Problem("approval", "error", text, section, position, anchor))
    if call.bad_json:
        text = f"{where}: the arguments are not valid JSON"
        out.append(Problem("arguments", "error", text, section, position, anchor))
    elif call.breaks_schema:
        text = f"{where}: the arguments break the tool's schema: {_short(call.schema_error)}"
        out.append(Problem("arguments", "error", text, section, position, anchor))
    return out


def of_audit(audit: trace.CallAudit, anchor: str | None = None) -> list[Problem]:
    """The problems of a call as trace.audit_call judged it (the trace): the same verdict
    as `of_row` on the row the index writes from that audit."""
    flags, entry = set(audit.flags), audit.entry
    call = SimpleNamespace(
        type=audit.type,
        name=audit.name,
        arguments=audit.arguments,
        status=audit.status,
        output=audit.output,
        failed="failed" in flags,
        no_output="no-output" in flags,
        bad_json="bad-json" in flags,
        breaks_schema="schema" in flags,
        schema_error=audit.schema_error,
        approval=audit.approval,
        where=entry.where,
        position=entry.position,
    )
    return of_row(call, entry.anchor if anchor is None else anchor)


def row_kinds(row: Any) -> list[str]:
    """The problem kinds of a ToolCall row (its badges on /tool-calls/)."""
    return kinds(of_row(row))


def own(response: Response) -> list[Problem]:
    """A response's problems that its body alone tells: the response's own, and those of
    its instruction and output items that are not audited calls (the index has those)."""
    items = [("output", p, item) for p, item in enumerate(response.output)]
    if isinstance(response.instructions, list):
        items += [("instructions", p, item) for p, item in enumerate(response.instructions)]
    return of_response(response) + [
        problem for section, p, item in items for problem in of_item(item, section, p)
    ]


def of_trace(built: trace.Trace) -> list[tuple[int, Problem]]:
    """Every problem of a trace as (turn number, problem): each turn's own (the response,
    its output items) and each call's, as audited across the turns."""
    found = [
        (turn.number, problem)
        for turn in built.turns
        for problem in of_response(turn.response) + of_items(turn.outputs)
    ]
    found += [(call.entry.turn, problem) for call in built.calls for problem in of_audit(call)]
    return sorted(found, key=lambda pair: (pair[0], pair[1].section, pair[1].position))


def other_flags(flags: Iterable[tuple[str, str]], approval: str) -> list[tuple[str, str]]:
    """The audit flags (trace.FLAGS) a call's problems do not say already: a tool that is
    not declared, and an approval that was needed and given."""
    return [
        (flag, label)
        for flag, label in flags
        if flag == "undeclared" or (flag == "approval" and approval == "approved")
    ]


def column(found: Iterable[str]) -> str:
    """Problem kinds as the list's column keeps them: "\\nerror\\nshell\\n" ("" for none)."""
    listed = [kind for kind, _ in KINDS if kind in set(found)]
    return "\n" + "\n".join(listed) + "\n" if listed else ""


def from_column(text: str) -> list[str]:
    return [kind for kind in (text or "").split("\n") if kind in LABELS]
