"""Template filters and tags: thin wrappers over rendering.py (HTML only via format_html).

Pure: they read what the view put in the context (pages.py gathers it) and never the store,
the client or the request; links come from `{% url %}` in the templates (tests/test_layers.py).
"""

from collections.abc import Iterable, Mapping
from typing import Any

from django import template
from django.utils.safestring import SafeString

from .. import describe, outline, pricing, problems, rendering

register = template.Library()

# --- dispatch ---------------------------------------------------------------------------


@register.filter
def item_templates(item: Any) -> list[str]:
    return rendering.item_templates(item)


@register.filter
def part_templates(part: Any) -> list[str]:
    return rendering.part_templates(part)


@register.filter
def annotation_templates(annotation: Any) -> list[str]:
    return rendering.annotation_templates(annotation)


@register.filter
def tool_templates(tool: Any) -> list[str]:
    return rendering.tool_templates(tool)


@register.filter
def answer_templates(item: Any) -> list[str]:
    return rendering.answer_templates(item)


# --- pairing (the first argument is a trace.Pairs) ----------------------------------------


@register.filter
def answer_to(pairs: Any, item: Any) -> Any:
    return pairs.answer_to(item) if pairs is not None else None


@register.filter
def call_of(pairs: Any, item: Any) -> Any:
    return pairs.call_of(item) if pairs is not None else None


@register.filter
def approval_request_of(pairs: Any, item: Any) -> Any:
    return pairs.approval_request_of(item) if pairs is not None else None


# --- words and numbers ------------------------------------------------------------------


@register.filter
def pretty_json(value: Any) -> str:
    return rendering.pretty_json(value)


@register.filter
def json_text(value: Any) -> rendering.JsonText:
    return rendering.json_text(value)


@register.filter
def money(value: Any) -> str:
    return pricing.money(value)


@register.filter
def size_words(value: Any) -> str:
    return rendering.size_words(int(value or 0))


@register.filter
def duration_words(value: Any) -> str:
    return rendering.duration_words(value)


@register.filter
def timeout_words(value: Any) -> str:
    return rendering.timeout_words(value)


@register.filter
def percent_of(part: Any, whole: Any) -> str:
    return rendering.percent(part, whole)


@register.filter
def computer_action_words(action: Any) -> str:
    return rendering.computer_action_words(action)


@register.filter
def web_search_action_words(action: Any) -> str:
    return rendering.web_search_action_words(action)


@register.filter
def patch_operation_words(operation: Any) -> str:
    return rendering.patch_operation_words(operation)


@register.filter
def shell_outcome_words(outcome: Any) -> str:
    return rendering.shell_outcome_words(outcome)


@register.filter
def local_shell_result(output: Any) -> rendering.ShellResult:
    return rendering.local_shell_result(output)


@register.filter
def error_text(error: Any) -> str:
    return rendering.error_text(error)


@register.filter
def item_failure(item: Any) -> str | None:
    return problems.item_failure(item)


@register.filter
def item_title(item: Any) -> str:
    return rendering.item_title(item)


@register.filter
def problem_labels(column: str) -> list[tuple[str, str]]:
    """(kind, label) of the problems a list row's column names."""
    return [(kind, problems.LABELS[kind]) for kind in problems.from_column(column)]


@register.filter
def audit_problems(audit: Any) -> list[tuple[str, str]]:
    """(kind, label) of the problems of an audited call (trace.CallAudit)."""
    return [(kind, problems.LABELS[kind]) for kind in problems.kinds(problems.of_audit(audit))]


@register.filter
def other_flags(call: Any) -> list[tuple[str, str]]:
    """The audit flags of a call that its problems do not say already."""
    return problems.other_flags(call.flag_labels, call.approval)


@register.filter
def outline_label(item: Any) -> str:
    return outline.label(item)


@register.filter
def item_name(item: Any) -> str:
    return rendering.item_name(item)


@register.filter
def tool_choice_words(choice: Any) -> str:
    return rendering.tool_choice_words(choice)


@register.filter
def filter_words(spec: Any) -> str:
    return rendering.filter_words(spec)


@register.filter
def text_format_words(fmt: Any) -> str:
    return rendering.text_format_words(fmt)


@register.filter
def masked_tool(tool: Any) -> Any:
    return rendering.masked_tool(tool)


@register.filter
def prompt_variables(prompt: Any) -> list[rendering.Variable]:
    return rendering.prompt_variables(prompt)


@register.filter
def message_parts(item: Any) -> list[Any]:
    return rendering.message_parts(item)


@register.filter
def output_parts(output: Any) -> list[Any] | None:
    return rendering.output_parts(output)


@register.filter
def shell_steps(call: Any, answer: Any = None) -> list[rendering.ShellStep]:
    return rendering.shell_steps(call, answer)


@register.filter
def command_line(command: Any) -> str:
    return rendering.command_line(command)


@register.filter
def approval_words(value: Any) -> str:
    return rendering.approval_words(value)


@register.filter
def allowed_tools_words(value: Any) -> str:
    return rendering.allowed_tools_words(value)


@register.filter
def referenced(pairs: Any, item: Any) -> Any:
    return pairs.referenced(item) if pairs is not None else None


@register.filter
def outcome_failed(outcome: Any) -> bool:
    return rendering.outcome_failed(outcome)


@register.filter
def schema_fields(schema: Any) -> list[rendering.SchemaField]:
    return rendering.schema_fields(schema)


@register.filter
def extra_fields(item: Any, exclude: str = "") -> dict[str, Any]:
    return rendering.extra_fields(item, exclude)


@register.filter
def inline_file(file_data: Any) -> rendering.InlineFile | None:
    return rendering.inline_file(file_data)


@register.filter
def citations(part: Any) -> list[rendering.Cited]:
    return rendering.citations(part)


@register.filter
def safe_link(url: Any) -> str | None:
    return rendering.safe_link(url)


# --- things that depend on the page: full view or not, the response ---------------------


def _full(context: template.Context) -> bool:
    return bool(context.get("full"))


def _more_url(context: template.Context) -> str | None:
    # The row's full view, as items/_item.html (or _pair.html for an answer) names it with
    # {% url %}: "" where there is none (a trace entry of no stored response).
    return context.get("more_url") or None


@register.simple_tag(takes_context=True)
def text_block(
    context: template.Context, text: Any, css: str = "text", url: str | None = None
) -> SafeString:
    """Plain text, cut after rendering.LONG_TEXT characters with a "show all" link (to `url`,
    else to the row's full view)."""
    return rendering.text_block(text, _full(context), url or _more_url(context), css)


@register.simple_tag(takes_context=True)
def code_block(context: template.Context, text: Any, language: str = "") -> SafeString:
    return rendering.code_block(text, language, _full(context), _more_url(context))


@register.simple_tag(takes_context=True)
def json_block(context: template.Context, value: Any) -> SafeString:
    return rendering.json_block(value, _full(context), _more_url(context))


@register.simple_tag(takes_context=True)
def raw_item_json(context: template.Context, value: Any) -> SafeString:
    bundle = context.get("bundle_url") or None
    return rendering.raw_item_json(value, _full(context), _more_url(context), bundle)


@register.simple_tag(takes_context=True)
def markdown_block(context: template.Context, text: Any) -> SafeString:
    return rendering.markdown_block(text, _full(context), _more_url(context))


@register.simple_tag(takes_context=True)
def renders_as_markdown(context: template.Context, text: Any) -> bool:
    return rendering.renders_as_markdown(text, _full(context))


@register.simple_tag(takes_context=True)
def cut_here(context: template.Context, part: Any) -> str | None:
    return rendering.cut_here(part, context.get("response"))


@register.simple_tag(takes_context=True)
def structured_output(context: template.Context, text: Any) -> rendering.StructuredOutput | None:
    return rendering.structured_output(text, context.get("response"))


@register.simple_tag(takes_context=True)
def logprob_tokens(context: template.Context, part: Any) -> rendering.LogprobView:
    return rendering.logprob_tokens(getattr(part, "logprobs", None), _full(context))


@register.simple_tag(takes_context=True)
def image_ref(context: template.Context, url: Any) -> rendering.ImageRef | None:
    return rendering.image_ref(url, _full(context))


@register.simple_tag(takes_context=True)
def generated_image(context: template.Context, item: Any) -> rendering.ImageRef | None:
    return rendering.generated_image(item, context.get("response"), _full(context))


@register.simple_tag(takes_context=True)
def reasoning_notes(context: template.Context, item: Any) -> list[str]:
    row = context.get("row")
    return rendering.reasoning_notes(item, context.get("response"), getattr(row, "section", ""))


@register.simple_tag(takes_context=True)
def show_all(context: template.Context, hidden: int, what: str = "characters") -> SafeString:
    return rendering.show_all_link(hidden, _more_url(context), what)


# --- notes (the page gives them all: pages.notes_by_response) ----------------------------


@register.filter
def notes_of(notes: Mapping[str, list[Any]] | None, response_id: str) -> list[Any]:
    """The notes of one response among those the page was given, oldest first."""
    return notes.get(response_id, []) if notes and response_id else []


@register.filter
def notes_at(notes: Iterable[Any], anchor: str) -> list[Any]:
    """Those of `notes` on one anchor ("" = the response itself)."""
    return [note for note in notes if note.anchor == anchor]


# --- the API's newer types and fields (describe.py) ----------------------------------------


@register.filter
def environment_templates(environment: Any) -> list[str]:
    return rendering.environment_templates(environment)


@register.filter
def execution_words(execution: Any) -> str:
    return describe.execution_words(execution)


@register.filter
def tool_search_words(arguments: Any) -> str:
    return describe.tool_search_words(arguments)


@register.filter
def caller_words(caller: Any) -> str:
    return describe.caller_words(caller)


@register.filter
def program_of(pairs: Any, item: Any) -> Any:
    return describe.program_of(pairs, item)


@register.filter
def tool_flags(tool: Any) -> list[str]:
    return describe.tool_flags(tool)


@register.filter
def phase_words(phase: Any) -> str:
    return describe.phase_words(phase)


@register.filter
def configuration_words(item: Any) -> list[str]:
    return describe.configuration_words(item)


@register.filter
def memory_words(limit: Any) -> str:
    return describe.memory_words(limit)


@register.filter
def network_words(policy: Any) -> str:
    return describe.network_words(policy)


@register.filter
def skill_words(skill: Any) -> str:
    return describe.skill_words(skill)


@register.filter
def base64_size(data: Any) -> int:
    return describe.base64_size(data)


@register.filter
def computer_actions(item: Any) -> list[str]:
    return describe.computer_actions(item)


@register.filter
def moderation_verdicts(moderation: Any) -> list[describe.Verdict]:
    return describe.moderation_verdicts(moderation)


@register.filter
def content_filter_verdicts(filters: Any) -> list[describe.Verdict]:
    return describe.content_filter_verdicts(filters)


@register.filter
def tool_usage_words(usage: Any) -> list[str]:
    return describe.tool_usage_words(usage)


@register.filter
def billing_words(billing: Any) -> str:
    return describe.billing_words(billing)


@register.filter
def cache_diagnostics_words(diagnostics: Any) -> str:
    return describe.cache_diagnostics_words(diagnostics)


@register.filter
def penalty_words(response: Any) -> str:
    return describe.penalty_words(response)


@register.filter
def transformation_words(change: Any) -> str:
    return describe.transformation_words(change)
