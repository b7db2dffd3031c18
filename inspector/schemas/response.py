"""The Response object (spec §2), the input-items page and the input_tokens endpoint (§1.2)."""

from datetime import UTC, datetime
from typing import Any

from pydantic import field_validator

from .base import Schema
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
