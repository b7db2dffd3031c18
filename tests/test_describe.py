"""describe.py: the API's newer types and fields in words, each a table of cases."""

from typing import Any

import pytest
from pydantic import TypeAdapter

from inspector import describe
from inspector.schemas import Response, item_adapter
from inspector.schemas.environments import Environment, Skill
from inspector.trace import pair

environment = TypeAdapter(Environment).validate_python
skill = TypeAdapter(Skill).validate_python


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        ({"paths": ["crm"]}, "the tool named “crm”"),
        ({"paths": ["crm", "billing"]}, "the tools named “crm”, “billing”"),
        ({"query": "exchange rates"}, "“exchange rates”"),
        ('{"paths": ["get_exchange_rate"]}', "the tool named “get_exchange_rate”"),
        ("currency", "“currency”"),
        ({"something": "else"}, ""),
        (None, ""),
    ],
)
def test_what_a_tool_search_looked_for(arguments, expected):
    assert describe.tool_search_words(arguments) == expected


@pytest.mark.parametrize(
    ("execution", "expected"),
    [
        ("server", "run by the API, which searched and loaded the tools at once"),
        ("client", "run by the caller's code, which answers with a tool_search_output"),
        (None, "run by (not said)"),
    ],
)
def test_who_ran_a_tool_search(execution, expected):
    assert describe.execution_words(execution) == expected


def call(**fields: Any) -> Any:
    return item_adapter.validate_python(
        {"type": "function_call", "call_id": "c1", "name": "f", **fields}
    )


@pytest.mark.parametrize(
    ("caller", "expected"),
    [
        (None, ""),
        ({"type": "direct"}, ""),
        ({"type": "program", "caller_id": "call_p"}, "called by the code of program call_p"),
        ({"type": "program"}, "called by the code of program (no id)"),
        ({"type": "webhook"}, "called by webhook"),
    ],
)
def test_who_made_a_call(caller, expected):
    assert describe.caller_words(call(caller=caller).caller) == expected


def test_a_call_made_by_a_program_links_to_that_program():
    program = item_adapter.validate_python({"type": "program", "call_id": "call_p", "code": "x"})
    made = call(caller={"type": "program", "caller_id": "call_p"})
    stray = call(caller={"type": "program", "caller_id": "call_other"})
    pairs = pair([program, made, stray])
    assert describe.program_of(pairs, made) is program
    assert describe.program_of(pairs, stray) is None
    assert describe.program_of(pairs, call()) is None


@pytest.mark.parametrize(
    ("tool", "expected"),
    [
        ({}, []),
        (
            {"defer_loading": True},
            ["Deferred: hidden from the model until a tool_search finds it."],
        ),
        ({"allowed_callers": ["direct"]}, ["May be called by the model only."]),
        (
            {"allowed_callers": ["programmatic"]},
            [
                "May be called by programs only (programmatic tool calling), "
                "never the model directly."
            ],
        ),
        (
            {"allowed_callers": ["direct", "programmatic"]},
            ["May be called by the model and programs (programmatic tool calling)."],
        ),
        ({"async": True}, ["Asynchronous: its output may come back in a later response."]),
    ],
)
def test_a_tools_newer_switches_in_words(tool, expected):
    parsed = Response.model_validate({"id": "r", "tools": [{"type": "function", **tool}]})
    assert describe.tool_flags(parsed.tools[0]) == expected


@pytest.mark.parametrize(
    ("update", "expected"),
    [
        ({"reasoning": {"effort": "high"}}, ["reasoning effort becomes high"]),
        (
            {"text": {"format": {"type": "json_schema", "name": "s", "strict": True}}},
            ["the output must match the JSON schema “s” (strict)"],
        ),
        ({"text": {"format": {"type": "text"}}}, ["the output becomes plain text"]),
        ({}, []),
    ],
)
def test_what_a_configuration_update_changes(update, expected):
    item = item_adapter.validate_python({"type": "configuration_update", "id": "c", **update})
    assert describe.configuration_words(item) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (
            {"type": "skill_reference", "skill_id": "skill_1", "version": "3"},
            "skill_1 (version 3)",
        ),
        ({"type": "skill_reference", "skill_id": "skill_1"}, "skill_1 (its default version)"),
        (
            {"type": "inline", "name": "notes", "source": {"data": "A" * 4096}},
            "“notes” sent inline as a zip of about 3.0 KB",
        ),
        ({"type": "brand_new"}, "a skill of unknown type brand_new"),
    ],
)
def test_a_skill_in_words(raw, expected):
    assert describe.skill_words(skill(raw)) == expected


def test_a_local_skill_names_its_folder():
    local = environment({"type": "local", "skills": [{"name": "lint", "path": "/skills/lint"}]})
    assert describe.skill_words(local.skills[0]) == "“lint” from /skills/lint"


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        ({"type": "disabled"}, "no network access"),
        (
            {"type": "allowlist", "allowed_domains": ["a.com", "b.org"]},
            "network access only to a.com, b.org",
        ),
        (None, "network access not set"),
    ],
)
def test_a_containers_network_in_words(policy, expected):
    auto = environment({"type": "container_auto", "network_policy": policy})
    assert describe.network_words(auto.network_policy) == expected


def test_a_batch_of_computer_actions_in_order_with_held_keys():
    item = item_adapter.validate_python(
        {
            "type": "computer_call",
            "call_id": "c",
            "actions": [
                {"type": "click", "button": "left", "x": 1, "y": 2, "keys": ["SHIFT"]},
                {"type": "keypress", "keys": ["CTRL", "C"]},
                {"type": "wait"},
            ],
        }
    )
    assert describe.computer_actions(item) == [
        "click left at (1, 2) holding SHIFT",
        "press CTRL + C",
        "wait",
    ]


def test_a_single_computer_action_is_one_line():
    item = item_adapter.validate_python(
        {"type": "computer_call", "call_id": "c", "action": {"type": "screenshot"}}
    )
    assert describe.computer_actions(item) == ["take a screenshot"]


@pytest.mark.parametrize(
    ("data", "size"), [("", 0), ("QUJD", 3), ("QUI=", 2), ("QQ==", 1), (None, 0)]
)
def test_base64_text_is_measured_without_decoding_it(data, size):
    assert describe.base64_size(data) == size


# --- response-level facts ----------------------------------------------------------------


def response(**fields: Any) -> Response:
    return Response.model_validate({"id": "resp_1", **fields})


def scores(**values: float) -> dict[str, Any]:
    return {"categories": {k: False for k in values}, "category_scores": values}


def test_moderation_that_flagged_nothing_says_so_with_the_highest_scores():
    result = {"type": "moderation_result", "flagged": False, "model": "omni-moderation-latest"}
    moderation = {"input": {**result, **scores(hate=0.001, illicit=0.02, violence=0.0004)}}
    [verdict] = describe.moderation_verdicts(response(moderation=moderation).moderation)
    assert (verdict.where, verdict.level) == ("input", "ok")
    assert (
        verdict.text
        == "The input was not flagged by omni-moderation-latest (3 categories checked)."
    )
    assert verdict.details == ["highest scores: illicit 0.02, hate 0.001, violence 0.0004"]


def test_moderation_that_flagged_names_the_categories_and_a_failed_one_says_why():
    flagged = {
        "type": "moderation_result",
        "flagged": True,
        "categories": {"violence": True, "hate": False, "self-harm": True},
        "category_scores": {},
    }
    error = {"type": "error", "code": "timeout", "message": "moderation timed out"}
    verdicts = describe.moderation_verdicts(
        response(moderation={"input": error, "output": flagged}).moderation
    )
    assert [(v.where, v.level, v.text) for v in verdicts] == [
        ("input", "warning", "Moderation of the input failed (timeout): moderation timed out"),
        ("output", "error", "The output was flagged: violence, self-harm."),
    ]


def test_azure_content_filters_are_said_per_prompt_and_completion_and_category():
    filters = [
        {
            "source_type": "prompt",
            "blocked": False,
            "content_filter_results": {
                "hate": {"filtered": False, "severity": "safe"},
                "jailbreak": {"detected": False, "filtered": False},
            },
        },
        {
            "source_type": "completion",
            "blocked": True,
            "content_filter_results": {"self_harm": {"filtered": True, "severity": "medium"}},
        },
        {
            "source_type": "completion",
            "content_filter_results": {
                "protected_material_code": {"detected": True, "filtered": False}
            },
        },
    ]
    verdicts = describe.content_filter_verdicts(response(content_filters=filters).content_filters)
    assert [(v.level, v.text) for v in verdicts] == [
        ("ok", "The content filter passed the prompt (2 categories checked)."),
        ("error", "The completion was blocked by the content filter: self harm."),
        ("warning", "The content filter flagged the completion: protected material code."),
    ]
    assert verdicts[0].details == [
        "hate: severity safe, not filtered",
        "jailbreak: not detected, not filtered",
    ]


@pytest.mark.parametrize(
    ("usage", "expected"),
    [
        ({"web_search": {"num_requests": 0}, "image_gen": {"input_tokens": 0}}, []),
        ({"web_search": {"num_requests": 1}}, ["1 billable web search"]),
        (
            {
                "web_search": {"num_requests": 3},
                "image_gen": {"input_tokens": 60, "output_tokens": 4160},
            },
            ["3 billable web searches", "image generation: 60 input and 4,160 output tokens"],
        ),
    ],
)
def test_hosted_tool_usage_in_words(usage, expected):
    assert describe.tool_usage_words(response(tool_usage=usage).tool_usage) == expected


@pytest.mark.parametrize(
    ("diagnostics", "expected"),
    [
        ({"type": "cache_hit"}, "the prompt cache was reused"),
        (
            {"type": "cache_miss", "reason": "tools_changed", "cache_missed_tokens": 1840},
            "the prompt cache was missed: the tools changed (1,840 tokens after the change)",
        ),
        ({"type": "cache_miss", "reason": "weather"}, "the prompt cache was missed: weather"),
        ({"type": "unavailable"}, "no diagnostics available"),
    ],
)
def test_prompt_cache_diagnostics_in_words(diagnostics, expected):
    found = response(prompt_cache_diagnostics=diagnostics).prompt_cache_diagnostics
    assert describe.cache_diagnostics_words(found) == expected


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"frequency_penalty": 0.0, "presence_penalty": 0.0}, "frequency 0, presence 0"),
        ({"presence_penalty": 0.5}, "presence 0.5"),
        ({}, ""),
    ],
)
def test_sampling_penalties_a_response_echoes(fields, expected):
    assert describe.penalty_words(response(**fields)) == expected


def test_billing_and_input_transformations_in_words():
    found = response(
        billing={"payer": "developer"},
        input_transformations=[
            {"id": "rs_1", "type": "reasoning", "action": "removed", "reason": "model_mismatch"}
        ],
    )
    assert describe.billing_words(found.billing) == "the developer (this API key's organization)"
    assert describe.billing_words(None) == ""
    assert (
        describe.transformation_words(found.input_transformations[0])
        == "reasoning rs_1 was removed: it came from another model"
    )
