"""The batch estimate: many requests at once, counted and priced as the playground prices one.

Each line is a JSON request body for POST /responses, or a line of the Batch API's input
file ({"custom_id", "method": "POST", "url": "/v1/responses", "body": {…}}). Each is
counted locally for its model (tokens.py) and priced as the playground prices a single
request (local.price_row, with the page's output, reasoning and cache assumptions), so the
totals per model are the sum of the single estimates; beside them the same tokens at the
Batch API's price, where genai-prices knows one. Pure: no database, no client.
"""

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from pydantic import ValidationError

from .. import nesting, pricing, scrub, tokens
from ..schemas import InputTokensRequest
from .local import is_reasoning_model, price_row

#: The most requests one estimate counts (the rest are left out, and counted).
BATCH_MAX_LINES = 10_000
#: The Batch API endpoints whose bodies are Responses API requests.
RESPONSES_URLS = ("/v1/responses", "/responses")
#: Failures listed line by line; the rest are counted.
FAILURES_SHOWN = 50


@dataclass
class ModelTotal:
    """The requests of one model: their tokens, their cost, and at the Batch API's price."""

    model: str
    requests: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    reasoning_tokens: int = 0
    cost: Decimal = Decimal(0)
    batch_cost: Decimal = Decimal(0)
    #: Requests with no known price (not in either cost).
    unpriced: int = 0

    @property
    def batch_known(self) -> bool:
        """Whether genai-prices knows a Batch API price for the model (it is then lower)."""
        return self.requests > self.unpriced and self.batch_cost < self.cost

    @property
    def saving(self) -> Decimal:
        return self.cost - self.batch_cost


@dataclass
class BatchEstimate:
    totals: list[ModelTotal] = field(default_factory=list)
    failures: list[tuple[int, str]] = field(default_factory=list)
    failed: int = 0
    #: Lines past BATCH_MAX_LINES, not counted.
    left_out: int = 0
    output_tokens: int = 0
    reasoning_tokens: int = 0
    cached_share: int = 0

    @property
    def requests(self) -> int:
        return sum(t.requests for t in self.totals)

    @property
    def input_tokens(self) -> int:
        return sum(t.input_tokens for t in self.totals)

    @property
    def cost(self) -> Decimal:
        return sum((t.cost for t in self.totals), Decimal(0))

    @property
    def batch_cost(self) -> Decimal:
        return sum((t.batch_cost for t in self.totals), Decimal(0))

    def fail(self, number: int, reason: str) -> None:
        self.failed += 1
        if len(self.failures) < FAILURES_SHOWN:
            self.failures.append((number, reason))


def request_of(obj: Any, default_model: str) -> tuple[InputTokensRequest, str]:
    """The request a line holds (a body, or a Batch API line's body) and its model; a
    ValueError says why a line is not one."""
    if not isinstance(obj, dict):
        raise ValueError(f"expected a JSON object, got {type(obj).__name__}")
    if "body" in obj and ("url" in obj or "custom_id" in obj):
        url = obj.get("url")
        if url not in RESPONSES_URLS:
            raise ValueError(f"url {url!r}: only /v1/responses requests can be counted here")
        obj = obj["body"]
        if not isinstance(obj, dict):
            raise ValueError("body: expected a JSON object")
    try:
        request = InputTokensRequest.model_validate(obj)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(top level)"
        raise ValueError(f"not a request: {where}: {first['msg']}") from None
    model = (request.model or default_model).strip()
    if not model:
        raise ValueError("no model: give one in the line or in the form")
    return request, model


def single_cost(
    request: InputTokensRequest, model: str, output: int, reasoning: int, cached_share: int
) -> tuple[tokens.Breakdown, pricing.Cost | None, pricing.Cost | None]:
    """One request as the playground estimates it (its count and price_row's cost), and
    the same tokens at the Batch API's price."""
    counted = tokens.count_request(request, model)
    row = price_row(model, counted.total, cached_share, output, reasoning, 0)
    batch = pricing.price(
        model,
        input_tokens=counted.total,
        cached_tokens=counted.total * cached_share // 100,
        output_tokens=output + row.reasoning_tokens,
        batch=True,
    )
    return counted, row.cost, batch


def estimate(
    lines: Iterable[str | bytes],
    *,
    default_model: str,
    output_tokens: int,
    reasoning_tokens: int = 0,
    cached_share: int = 0,
) -> BatchEstimate:
    """Count and price every request of `lines` (blank lines are skipped); a line that is
    not a request fails alone, with its number and why."""
    found = BatchEstimate(
        output_tokens=output_tokens, reasoning_tokens=reasoning_tokens, cached_share=cached_share
    )
    by_model: dict[str, ModelTotal] = {}
    counted = 0
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        if counted >= BATCH_MAX_LINES:
            found.left_out += 1
            continue
        counted += 1
        try:
            obj = scrub.scrub(nesting.loads(line))[0]
            request, model = request_of(obj, default_model)
            breakdown, cost, batch = single_cost(
                request, model, output_tokens, reasoning_tokens, cached_share
            )
        except json.JSONDecodeError as error:
            found.fail(number, f"not JSON (column {error.colno}: {error.msg})")
            continue
        except (ValueError, tokens.EncodingUnavailable) as error:
            found.fail(number, str(error))
            continue
        total = by_model.setdefault(model, ModelTotal(model))
        total.requests += 1
        total.input_tokens += breakdown.total
        total.output_tokens += output_tokens
        total.reasoning_tokens += reasoning_tokens if is_reasoning_model(model) else 0
        if cost is None or batch is None:
            total.unpriced += 1
        else:
            total.cost += cost.total
            total.batch_cost += batch.total
    found.totals = sorted(by_model.values(), key=lambda t: (-t.cost, t.model))
    return found
