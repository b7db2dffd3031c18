"""Words for the parts of the API newer than the seeds (openai SDK 3.57, real recordings).

Tool search, programs, callers, shell environments and skills, message phases, mid-
conversation configuration changes; and the response-level fields that say how a response
was moderated, filtered and billed: moderation, Azure content filters, hosted-tool usage,
prompt-cache diagnostics. Pure functions over schema objects, tested with tables of cases;
templates reach them through thin filters in templatetags/inspector.py.
"""

import json
from dataclasses import dataclass
from typing import Any

from django.contrib.humanize.templatetags.humanize import intcomma

from .rendering import computer_action_words
from .schemas.base import Unknown

# --- tool search and programs -----------------------------------------------------------


def execution_words(execution: Any) -> str:
    """Who ran a tool search (`execution` of the tool, its call and its output)."""
    if execution == "server":
        return "run by the API, which searched and loaded the tools at once"
    if execution == "client":
        return "run by the caller's code, which answers with a tool_search_output"
    return f"run by {execution}" if execution else "run by (not said)"


def _quoted(values: list[Any]) -> str:
    return ", ".join(f"“{v}”" for v in values)


def tool_search_words(arguments: Any) -> str:
    """What a tool_search_call looked for: its `arguments` object in words, or "" when its
    shape is not one this knows (the template then shows the arguments as JSON)."""
    if isinstance(arguments, str):
        try:
            arguments = json.loads(arguments)
        except ValueError:
            return f"“{arguments}”" if arguments else ""
    if not isinstance(arguments, dict):
        return ""
    paths = arguments.get("paths")
    if isinstance(paths, list) and paths:
        noun = "tool" if len(paths) == 1 else "tools"
        return f"the {noun} named {_quoted(paths)}"
    for key in ("query", "queries", "q"):
        value = arguments.get(key)
        if isinstance(value, str) and value:
            return f"“{value}”"
        if isinstance(value, list) and value:
            return _quoted(value)
    return ""


def caller_words(caller: Any) -> str:
    """Who made a tool call: "" when the model did (the usual case, so nothing to say)."""
    kind = getattr(caller, "type", None)
    if caller is None or kind == "direct":
        return ""
    if kind == "program":
        return f"called by the code of program {getattr(caller, 'caller_id', None) or '(no id)'}"
    return f"called by {kind or 'an unnamed caller'}"


def program_of(pairs: Any, item: Any) -> Any | None:
    """The entry of the program item whose code made this call (by its call_id), or None."""
    caller = getattr(item, "caller", None)
    caller_id = getattr(caller, "caller_id", None)
    if pairs is None or getattr(caller, "type", None) != "program" or not caller_id:
        return None
    return pairs.calls.get(("program_output", caller_id))


def callers_words(allowed: Any) -> str:
    """A tool's `allowed_callers` in words, or "" when it is not set (the model only)."""
    if not isinstance(allowed, list):
        return ""
    names = {str(a) for a in allowed}
    if names == {"direct"}:
        return "the model only"
    if names == {"programmatic"}:
        return "programs only (programmatic tool calling), never the model directly"
    if names == {"direct", "programmatic"}:
        return "the model and programs (programmatic tool calling)"
    return ", ".join(str(a) for a in allowed) or "no one"


def tool_flags(tool: Any) -> list[str]:
    """What a tool definition's newer switches mean, one sentence each."""
    flags = []
    if getattr(tool, "defer_loading", None):
        flags.append("Deferred: hidden from the model until a tool_search finds it.")
    if callers := callers_words(getattr(tool, "allowed_callers", None)):
        flags.append(f"May be called by {callers}.")
    if getattr(tool, "is_async", None):
        flags.append("Asynchronous: its output may come back in a later response.")
    return flags


PHASES = {
    "commentary": "commentary: the model's working notes before its final answer",
    "final_answer": "final answer",
}


def phase_words(phase: Any) -> str:
    return PHASES.get(phase, str(phase)) if phase else ""


def configuration_words(item: Any) -> list[str]:
    """What a configuration_update item changes from its place in the conversation on."""
    out = []
    effort = getattr(getattr(item, "reasoning", None), "effort", None)
    if effort:
        out.append(f"reasoning effort becomes {effort}")
    fmt = getattr(getattr(item, "text", None), "format", None)
    if fmt is not None:
        kind = getattr(fmt, "type", None) or "text"
        if kind == "json_schema":
            name = getattr(fmt, "name", None) or "unnamed"
            strict = " (strict)" if getattr(fmt, "strict", None) else ""
            out.append(f"the output must match the JSON schema “{name}”{strict}")
        elif kind == "text":
            out.append("the output becomes plain text")
        else:
            out.append(f"the text format becomes {kind}")
    return out


# --- shell environments and skills -----------------------------------------------------


def memory_words(limit: Any) -> str:
    return f"{str(limit).removesuffix('g')} GB of memory" if limit else ""


def skill_words(skill: Any) -> str:
    """One skill of an environment (skill_reference, inline, or a local folder)."""
    kind = getattr(skill, "type", None)
    if kind == "skill_reference":
        version = getattr(skill, "version", None)
        which = f"version {version}" if version else "its default version"
        return f"{skill.skill_id or '(no id)'} ({which})"
    if kind == "inline":
        size = base64_size(getattr(getattr(skill, "source", None), "data", ""))
        return f"“{skill.name}” sent inline as a zip of about {_bytes(size)}"
    if isinstance(skill, Unknown):
        return f"a skill of unknown type {kind or '(none)'}"
    path = getattr(skill, "path", None)
    name = getattr(skill, "name", None) or "(unnamed)"
    return f"“{name}” from {path}" if path else f"“{name}”"


def _bytes(count: int) -> str:
    return f"{count / 1024:.1f} KB" if count >= 1024 else f"{count} B"


def network_words(policy: Any) -> str:
    if policy is None:
        return "network access not set"
    if getattr(policy, "type", None) == "disabled":
        return "no network access"
    domains = list(getattr(policy, "allowed_domains", None) or [])
    if getattr(policy, "type", None) == "allowlist":
        return "network access only to " + (", ".join(domains) or "no domains")
    return f"network policy {getattr(policy, 'type', None) or '(no type)'}"


# --- response-level facts: moderation, content filters, tool usage, caching ----------------


@dataclass(frozen=True)
class Verdict:
    """One moderation or filter verdict in words: `level` is ok, warning or error."""

    where: str
    level: str
    text: str
    details: list[str]


def _top_scores(scores: dict[str, Any], count: int = 3) -> str:
    ranked = sorted(
        ((k, v) for k, v in scores.items() if isinstance(v, int | float)),
        key=lambda kv: -kv[1],
    )[:count]
    return ", ".join(f"{k} {v:.2g}" for k, v in ranked)


def moderation_verdicts(moderation: Any) -> list[Verdict]:
    """The moderation model's verdict on the input and the output of a response."""
    out = []
    for where in ("input", "output"):
        entry = getattr(moderation, where, None)
        if entry is None:
            continue
        kind = getattr(entry, "type", None)
        if kind == "error":
            text = f"Moderation of the {where} failed ({entry.code or 'error'}): {entry.message}"
            out.append(Verdict(where, "warning", text, []))
            continue
        if kind != "moderation_result":
            out.append(Verdict(where, "warning", f"A {where} moderation of type {kind}.", []))
            continue
        model = f" by {entry.model}" if entry.model else ""
        flagged = [name for name, hit in entry.categories.items() if hit]
        highest = _top_scores(entry.category_scores)
        details = [f"highest scores: {highest}"] if highest else []
        if entry.flagged or flagged:
            text = f"The {where} was flagged{model}: {', '.join(flagged) or 'no category named'}."
            out.append(Verdict(where, "error", text, details))
        else:
            count = len(entry.categories)
            text = f"The {where} was not flagged{model} ({count} categories checked)."
            out.append(Verdict(where, "ok", text, details))
    return out


def _filter_category_words(name: str, result: Any) -> tuple[str, bool]:
    if not isinstance(result, dict):
        return f"{name}: {result}", False
    hit = bool(result.get("filtered")) or bool(result.get("detected"))
    words = []
    if "severity" in result:
        words.append(f"severity {result['severity']}")
    if "detected" in result:
        words.append("detected" if result["detected"] else "not detected")
    words.append("filtered" if result.get("filtered") else "not filtered")
    return f"{name.replace('_', ' ')}: {', '.join(words)}", hit


def content_filter_verdicts(filters: Any) -> list[Verdict]:
    """Azure OpenAI's content filter results, one verdict per prompt or completion."""
    out = []
    for entry in filters or []:
        source = getattr(entry, "source_type", None) or "content"
        results = getattr(entry, "content_filter_results", None) or {}
        details, hits = [], []
        for name, result in results.items():
            line, hit = _filter_category_words(str(name), result)
            details.append(line)
            if hit:
                hits.append(str(name).replace("_", " "))
        if getattr(entry, "blocked", None):
            level, text = "error", f"The {source} was blocked by the content filter"
        elif hits:
            level, text = "warning", f"The content filter flagged the {source}"
        else:
            level, text = "ok", f"The content filter passed the {source}"
        text += f": {', '.join(hits)}." if hits else f" ({len(details)} categories checked)."
        out.append(Verdict(source, level, text, details))
    return out


def tool_usage_words(usage: Any) -> list[str]:
    """What hosted tools used besides the model's tokens, or [] when nothing."""
    out = []
    searches = getattr(getattr(usage, "web_search", None), "num_requests", 0) or 0
    if searches:
        out.append(f"{intcomma(searches)} billable web search{'es' if searches != 1 else ''}")
    image = getattr(usage, "image_gen", None)
    if image is not None and (image.input_tokens or image.output_tokens):
        out.append(
            f"image generation: {intcomma(image.input_tokens)} input and "
            f"{intcomma(image.output_tokens)} output tokens"
        )
    return out


def billing_words(billing: Any) -> str:
    payer = getattr(billing, "payer", None)
    if not payer:
        return ""
    return {"developer": "the developer (this API key's organization)"}.get(payer, str(payer))


CACHE_REASONS = {
    "model_changed": "the model changed",
    "prompt_cache_key_changed": "the prompt_cache_key changed",
    "tools_changed": "the tools changed",
    "text_format_changed": "the text format changed",
    "reasoning_effort_changed": "the reasoning effort changed",
    "verbosity_changed": "the verbosity changed",
    "context_compacted": "the context was compacted",
    "input_changed": "the input changed",
    "service_tier_changed": "the service tier changed",
}


def cache_diagnostics_words(diagnostics: Any) -> str:
    kind = getattr(diagnostics, "type", None)
    if kind == "cache_hit":
        return "the prompt cache was reused"
    if kind == "cache_miss":
        reason = CACHE_REASONS.get(diagnostics.reason, diagnostics.reason or "no reason given")
        missed = diagnostics.cache_missed_tokens
        tokens = f" ({intcomma(missed)} tokens after the change)" if missed is not None else ""
        return f"the prompt cache was missed: {reason}{tokens}"
    if kind == "comparison_response_not_found":
        return "no comparison: the response to compare with was not found"
    if kind == "unavailable":
        return "no diagnostics available"
    return str(kind or "")


def penalty_words(response: Any) -> str:
    """The sampling penalties a response echoes ("" when it has none): Chat Completions'
    parameters, which the Responses API and its SDK do not take, only send back."""
    shown = [
        f"{name.split('_')[0]} {value:g}"
        for name in ("frequency_penalty", "presence_penalty")
        if isinstance(value := getattr(response, name, None), int | float)
    ]
    return ", ".join(shown)


TRANSFORMATION_REASONS = {
    "organization_mismatch": "it came from another organization",
    "end_user_mismatch": "it came from another end user",
    "model_mismatch": "it came from another model",
    "prefix_mismatch": "the conversation before it changed",
    "turn_boundary": "it belonged to an earlier turn",
}


def transformation_words(change: Any) -> str:
    reason = TRANSFORMATION_REASONS.get(change.reason, change.reason or "no reason given")
    return f"{change.type or 'item'} {change.id or ''} was {change.action or 'changed'}: {reason}"


def base64_size(data: Any) -> int:
    """The bytes that base64 text (audio, a skill's zip) decodes to, without decoding it."""
    if not isinstance(data, str):
        return 0
    payload = data.strip()
    return max(0, len(payload) * 3 // 4 - payload[-2:].count("="))


def computer_actions(item: Any) -> list[str]:
    """A computer_call's actions in words, in order: the GA tool's batch, else its one action;
    with the modifier keys held during a click, drag, move or scroll."""
    actions = getattr(item, "actions", None) or [getattr(item, "action", None)]
    out = []
    for action in actions:
        words = computer_action_words(action)
        keys = getattr(action, "keys", None)
        if isinstance(keys, list) and keys and getattr(action, "type", None) != "keypress":
            words += " holding " + " + ".join(str(k) for k in keys)
        out.append(words)
    return out
