"""The Response object (spec §2), the input-items page and the input_tokens endpoint (§1.2)."""

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

from pydantic import field_validator

from .base import Schema, Unknown, tagged_union
from .items import Item
from .tools import TextFormat, Tool


def unix_time(value: float | None) -> datetime | None:
    if value is None:
        return None
    try:
        return datetime.fromtimestamp(value, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None


class ResponseError(Schema):
    code: str | None = None
    message: str = ""


class IncompleteDetails(Schema):
    reason: str | None = None


class Conversation(Schema):
    id: str = ""


class PromptReference(Schema):
    id: str = ""
    version: str | None = None
    variables: dict[str, Any] | None = None


class ReasoningConfig(Schema):
    effort: str | None = None
    summary: str | None = None
    generate_summary: str | None = None


class TextConfig(Schema):
    format: TextFormat | None = None
    verbosity: str | None = None


class InputTokensDetails(Schema):
    cached_tokens: int = 0
    # Newer than the seeds; kept by extra="allow" and read when present.
    cache_write_tokens: int | None = None


class OutputTokensDetails(Schema):
    reasoning_tokens: int = 0


class Usage(Schema):
    input_tokens: int = 0
    input_tokens_details: InputTokensDetails = InputTokensDetails()
    output_tokens: int = 0
    output_tokens_details: OutputTokensDetails = OutputTokensDetails()
    total_tokens: int = 0

    @field_validator("input_tokens_details", "output_tokens_details", mode="before")
    @classmethod
    def _null_details_are_empty(cls, value: Any) -> Any:
        # OpenAI-compatible servers (vLLM, gateways) send `null` details; read them as zeros.
        return {} if value is None else value


# --- top-level fields newer than the seeds (openai SDK 3.57; Azure's content_filters) -------


class Billing(Schema):
    payer: str | None = None


class UnknownModeration(Unknown):
    pass


class ModerationResult(Schema):
    type: Literal["moderation_result"]
    flagged: bool | None = None
    model: str | None = None
    categories: dict[str, bool | None] = {}
    category_scores: dict[str, float | None] = {}
    category_applied_input_types: dict[str, Any] | None = None


class ModerationError(Schema):
    type: Literal["error"]
    code: str | None = None
    message: str = ""


if TYPE_CHECKING:
    ModerationEntry = Schema
else:
    ModerationEntry = tagged_union([ModerationResult, ModerationError], UnknownModeration)


class Moderation(Schema):
    """Moderated completions: a moderation model's verdict on the input and on the output."""

    input: ModerationEntry | None = None
    output: ModerationEntry | None = None


class ContentFilter(Schema):
    """Azure OpenAI's content filter verdict on the prompt or on the completion."""

    source_type: str | None = None
    blocked: bool | None = None
    # category -> {"filtered": bool, "severity": "safe"|"low"|…} or {"filtered", "detected"}
    content_filter_results: dict[str, Any] | None = None
    content_filter_offsets: dict[str, Any] | None = None


class ImageGenTokenDetails(Schema):
    image_tokens: int | None = None
    text_tokens: int | None = None


class ImageGenUsage(Schema):
    input_tokens: int = 0
    input_tokens_details: ImageGenTokenDetails | None = None
    output_tokens: int = 0
    output_tokens_details: ImageGenTokenDetails | None = None
    total_tokens: int = 0
    cached_tokens: int | None = None


class WebSearchUsage(Schema):
    num_requests: int = 0


class ToolUsage(Schema):
    """What hosted tools used, apart from the model's own `usage`."""

    image_gen: ImageGenUsage | None = None
    web_search: WebSearchUsage | None = None


class PromptCacheDiagnostics(Schema):
    # cache_hit, cache_miss (with a reason), comparison_response_not_found, unavailable
    type: str | None = None
    reason: str | None = None
    cache_missed_tokens: int | None = None
    comparison_reusable_tokens: int | None = None


class PromptCacheOptions(Schema):
    mode: str | None = None
    ttl: str | None = None
    comparison_response_id: str | None = None


class InputTransformation(Schema):
    """An input item the API changed before the model saw it (so far: reasoning removed)."""

    id: str | None = None
    type: str | None = None
    action: str | None = None
    reason: str | None = None


class AccessPrograms(Schema):
    cyber: str | None = None


class ImageSettings(Schema):
    context_compression: str | None = None


#: The Response statuses (spec §2) after which a response no longer changes; the others
#: (queued, in_progress) are still running.
TERMINAL_STATUSES = frozenset({"completed", "failed", "incomplete", "cancelled"})


class Response(Schema):
    id: str
    object: str = "response"
    created_at: float | None = None
    status: str | None = None
    error: ResponseError | None = None
    incomplete_details: IncompleteDetails | None = None
    instructions: str | list[Item] | None = None
    metadata: dict[str, Any] | None = None
    model: str = ""
    output: list[Item] = []
    parallel_tool_calls: bool | None = None
    temperature: float | None = None
    tool_choice: str | dict[str, Any] | None = None
    tools: list[Tool] = []
    top_p: float | None = None
    background: bool | None = None
    completed_at: float | None = None
    conversation: Conversation | None = None
    max_output_tokens: int | None = None
    max_tool_calls: int | None = None
    previous_response_id: str | None = None
    prompt: PromptReference | None = None
    prompt_cache_key: str | None = None
    prompt_cache_retention: str | None = None
    reasoning: ReasoningConfig | None = None
    safety_identifier: str | None = None
    service_tier: str | None = None
    store: bool | None = None
    text: TextConfig | None = None
    top_logprobs: int | None = None
    truncation: str | None = None
    usage: Usage | None = None
    user: str | None = None
    billing: Billing | None = None
    moderation: Moderation | None = None
    content_filters: list[ContentFilter] | None = None
    tool_usage: ToolUsage | None = None
    # Chat Completions' sampling penalties: echoed by the API, not Responses parameters.
    frequency_penalty: float | None = None
    presence_penalty: float | None = None
    # A top-level effort some OpenAI-compatible servers (Azure, vLLM) echo besides reasoning.
    reasoning_effort: str | None = None
    prompt_cache_diagnostics: PromptCacheDiagnostics | None = None
    prompt_cache_options: PromptCacheOptions | None = None
    input_transformations: list[InputTransformation] | None = None
    access_programs: AccessPrograms | None = None
    image: ImageSettings | None = None

    @property
    def created(self) -> datetime | None:
        return unix_time(self.created_at)

    @property
    def completed(self) -> datetime | None:
        return unix_time(self.completed_at)

    @property
    def duration(self) -> float | None:
        """Seconds from creation to completion (spec §7.11: floats in Unix seconds)."""
        if self.created_at is None or self.completed_at is None:
            return None
        return max(0.0, self.completed_at - self.created_at)


class InputItemsPage(Schema):
    object: str = "list"
    data: list[Item] = []
    first_id: str | None = None
    last_id: str | None = None
    has_more: bool = False


class InputTokensRequest(Schema):
    """The 11 body parameters of POST /responses/input_tokens, and no others (spec §1.2)."""

    conversation: str | dict[str, Any] | None = None
    input: str | list[Item] | None = None
    instructions: str | None = None
    model: str | None = None
    parallel_tool_calls: bool | None = None
    previous_response_id: str | None = None
    reasoning: ReasoningConfig | None = None
    text: TextConfig | None = None
    tool_choice: str | dict[str, Any] | None = None
    tools: list[Tool] | None = None
    truncation: str | None = None


class InputTokensResult(Schema):
    object: str = "response.input_tokens"
    input_tokens: int
