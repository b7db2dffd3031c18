"""The local count against what the Responses API really billed (docs/token-counting.md).

Real bills: ../shared/real-world/input-tokens.jsonl (exact request bodies and the
usage.input_tokens billed for each), read by that relative path, never copied in. Each rule of
tokens.py that was learned from them is checked here on the bills it rests on; the evidence
table the playground quotes is recomputed, so it cannot drift from the data.
"""

from typing import Any

import pytest

from bench import token_accuracy
from inspector import tokens
from inspector.schemas import InputTokensRequest

REAL = token_accuracy.REAL
pytestmark = pytest.mark.skipif(
    not (REAL / "input-tokens.jsonl").exists(), reason=f"no real bills in {REAL.resolve()}"
)


@pytest.fixture(scope="module")
def pairs() -> dict[str, token_accuracy.Pair]:
    tokens.install_encoding_files()  # from the bpe-openai wheel, verified; never downloads
    return {pair.name: pair for pair in token_accuracy.load_pairs()}


def local(request: dict[str, Any], **options: Any) -> int:
    return tokens.count_request(InputTokensRequest.model_validate(request), **options).total


@pytest.mark.parametrize(
    "name",
    [
        # Function calls and outputs framed as turns to and from the function (gpt-4o, 4.1).
        "test_openai_responses_model_simple_response_with_tool_call #1",
        "test_openai_responses_non_reasoning_model_no_item_ids #1",
        "test_text_output_function #1",
        "test_tool_output #1",
        # Function definitions: no parameters, one, two tools.
        "test_text_output_function #0",
        "test_openai_responses_non_reasoning_model_no_item_ids #0",
        "test_openai_responses_model_simple_response_with_tool_call #0",
        "test_tool_output #0",
        # A json_schema text format, flat and nested (anyOf, const), strict.
        "test_native_output #0",
        "test_native_output_multiple #0",
        "test_native_output_multiple #1",
        # Reasoning models: a reply primed with 2 tokens; assistant turns carry their channel.
        "test_openai_responses_moderation #0",
        "test_reasoning_model_with_temperature #0",
        "test_openai_responses_thinking_with_modified_history #2",
        "test_openai_responses_thinking_part_from_other_model #1",
    ],
)
def test_the_local_count_is_the_real_bill_exactly(name, pairs):
    pair = pairs[name]
    assert local(pair.request) == pair.billed


@pytest.mark.parametrize(
    ("name", "cookbook_off_by"),
    [
        ("test_text_output_function #0", 4),
        ("test_openai_responses_model_simple_response_with_tool_call #0", 7),
        ("test_tool_output #0", 9),
        ("test_native_output_multiple #0", 53),
    ],
)
def test_the_cookbooks_chat_completions_rule_overcounts_these_bills(name, cookbook_off_by, pairs):
    # Why the Responses rules differ: the cookbook's published constants, on real bills.
    pair = pairs[name]
    assert local(pair.request, cookbook=True) - pair.billed == cookbook_off_by


def test_pro_mode_needs_the_api_count(pairs):
    pair = pairs["test_openai_responses_reasoning_mode_pro #0"]
    breakdown = tokens.count_request(InputTokensRequest.model_validate(pair.request))
    assert breakdown.kinds == [tokens.PRO]
    assert pair.billed > 80 * breakdown.total


def test_the_local_count_meets_its_goal_on_real_bills(pairs):
    measured = token_accuracy.measure(list(pairs.values()))
    assert measured.share(token_accuracy.OVERALL) >= 0.9
    for kind in tokens.MEASURED_KINDS:
        if measured.evidence(kind).pairs:
            assert measured.share(kind) >= 0.75, kind


def test_the_evidence_the_playground_quotes_is_what_the_real_bills_say(pairs):
    measured = token_accuracy.measure(list(pairs.values()))
    recomputed = {
        kind: measured.evidence(kind)
        for kind in measured.differences
        if kind != token_accuracy.OVERALL
    }
    assert recomputed == tokens.EVIDENCE


def test_bills_of_march_2025_are_measured_apart_and_ran_higher(pairs):
    march = [p for p in pairs.values() if p.billed_on < token_accuracy.FIRST_DAY]
    assert len(march) == tokens.EVIDENCE[tokens.MARCH_2025].pairs
    assert tokens.EVIDENCE[tokens.MARCH_2025].median > 100
