"""Cost from token counts, with genai-prices' bundled price table, and money as people read it.

Money is Decimal, rounded only for display (`money`). Prices can change over time, so a
stored response is priced as of its own `created_at`. An unknown model gives None ("no price
known"), never a guess.
"""

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from importlib.metadata import version

from genai_prices import Usage, calc_price

PROVIDER = "openai"
PRICE_TABLE = f"genai-prices {version('genai-prices')}"

#: Smaller amounts are shown as "<$0.000001": digits past a millionth of a dollar are noise.
MONEY_FLOOR = Decimal("0.000001")

#: The models the playground and the response page compare side by side.
COMPARE_MODELS = (
    "gpt-5.1",
    "gpt-5-mini",
    "gpt-5-nano",
    "gpt-4.1",
    "gpt-4.1-mini",
    "o4-mini",
    "gpt-4o",
)


@dataclass(frozen=True)
class Cost:
    model: str
    model_name: str
    input_uncached: Decimal
    input_cached: Decimal
    output: Decimal
    total: Decimal
    priced_at: datetime
    context_window: int | None
    price_table: str = PRICE_TABLE


#: genai-prices' price context for the Batch API (its "processing": "batch" price variants).
BATCH = {"processing": "batch"}


def _calc(usage: Usage, model: str, when: datetime, batch: bool = False):  # type: ignore[no-untyped-def]
    return calc_price(
        usage,
        model_ref=model,
        provider_id=PROVIDER,
        genai_request_timestamp=when,
        price_context=BATCH if batch else None,
    )


def _usage(input_tokens: int, cached_tokens: int, output_tokens: int, cache_write: int) -> Usage:
    return Usage(
        input_tokens=input_tokens,
        cache_read_tokens=max(0, min(cached_tokens, input_tokens)),
        cache_write_tokens=cache_write or None,
        output_tokens=output_tokens,
    )


def total(
    model: str,
    *,
    input_tokens: int,
    cached_tokens: int = 0,
    output_tokens: int = 0,
    cache_write_tokens: int = 0,
    when: datetime | None = None,
) -> Decimal | None:
    """`price(...).total` in one calculation instead of two (no split of the input price):
    what the store keeps for the list, once per stored response."""
    usage = _usage(input_tokens, cached_tokens, output_tokens, cache_write_tokens)
    try:
        return Decimal(_calc(usage, model, when or datetime.now(tz=UTC)).total_price)
    except LookupError:
        return None


def price(
    model: str,
    *,
    input_tokens: int,
    cached_tokens: int = 0,
    output_tokens: int = 0,
    cache_write_tokens: int = 0,
    when: datetime | None = None,
    batch: bool = False,
) -> Cost | None:
    """The cost of one request's tokens on `model`, or None if no price is known; `batch`:
    sent through the Batch API, at its price where genai-prices knows one (else the
    standard price: compare the two to tell).

    `input_tokens` includes the cached ones (as in the API's usage); reasoning tokens are part
    of `output_tokens` and billed as output.
    """
    when = when or datetime.now(tz=UTC)
    cached = max(0, min(cached_tokens, input_tokens))
    try:
        whole = _calc(
            _usage(input_tokens, cached_tokens, output_tokens, cache_write_tokens),
            model,
            when,
            batch,
        )
        uncached_only = _calc(Usage(input_tokens=input_tokens - cached), model, when, batch)
    except LookupError:
        return None
    input_uncached = Decimal(uncached_only.input_price)
    return Cost(
        model=model,
        model_name=whole.model.name or whole.model.id,
        input_uncached=input_uncached,
        input_cached=Decimal(whole.input_price) - input_uncached,
        output=Decimal(whole.output_price),
        total=Decimal(whole.total_price),
        priced_at=when,
        context_window=whole.model.context_window,
    )


def money(amount: Decimal | None) -> str:
    """US dollars for display, one rule on every page: cents from a dollar up; below a dollar,
    three significant digits with their trailing zeros ($0.500, $0.0123, $0.00120, $0.000675).

    Costs are read side by side (a model a row in the playground, a turn a row in a trace,
    two responses in a comparison), and what a person compares is their ratio: three
    significant digits give every amount the same relative precision (better than 1 %) and
    the same number of digits, where fixed decimals would show a cheap model's cost with one
    digit and a dear one's with four, and stripped zeros would make $0.005 look less precise
    than $0.00581. Half-up rounding, thousands separated by commas; None is "—".
    """
    if amount is None:
        return "—"
    if amount == 0:
        return "$0"
    sign, size = ("-" if amount < 0 else ""), abs(amount)
    if size < MONEY_FLOOR:
        return f"{sign}<${MONEY_FLOOR}"
    # Twice: rounding can carry into a new leading digit (0.009996 gives 0.01000, then 0.0100).
    shown = _significant(_significant(size))
    if shown >= 1:
        shown = size.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return f"{sign}${shown:,f}"


def _significant(amount: Decimal, digits: int = 3) -> Decimal:
    return amount.quantize(Decimal(1).scaleb(amount.adjusted() - digits + 1), ROUND_HALF_UP)
