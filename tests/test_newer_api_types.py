"""The API's types newer than the seeds, on the response page, as a person reads them.

Tool search, namespaces, programs and the calls they make, the GA computer tool's batches,
shell environments and skills, tools and settings changed mid-conversation, message phases
and audio input: each in words, paired where it pairs, with secrets masked.
"""

import json
from pathlib import Path
from typing import Any

import pytest

from inspector import store
from tests.test_response_page import article, text

pytestmark = pytest.mark.django_db

DEMO = Path(__file__).resolve().parent.parent / "inspector" / "demo"


def demo(prefix: str) -> dict[str, Any]:
    (path,) = DEMO.glob(f"{prefix}_*.json")
    bundle: dict[str, Any] = json.loads(path.read_text())
    store.save_bundle(bundle["response"], bundle["input_items"], source="demo")
    return bundle


def page(client: Any, bundle: dict[str, Any]) -> str:
    answer = client.get(f"/responses/{bundle['response']['id']}/")
    assert answer.status_code == 200
    return str(answer.content.decode())


def anchor(bundle: dict[str, Any], kind: str, where: str = "output", n: int = 0) -> str:
    items = bundle["response"]["output"] if where == "output" else bundle["input_items"]
    return "item-" + [i for i in items if i["type"] == kind][n]["id"]


def test_a_server_tool_search_is_shown_beside_the_tools_it_loaded(logged_in):
    bundle = demo("39")
    html = page(logged_in, bundle)
    call = text(article(html, anchor(bundle, "tool_search_call")))
    assert "Searched the deferred tools for the tool named “crm”" in call
    assert "run by the API, which searched and loaded the tools at once" in call
    assert "Loaded 1 tool: from here on the model may call it." in call
    assert "Groups 2 tools under the name crm" in call
    # Shown beside the search: where it stands, a line that says so.
    output = text(html.split(f'id="{anchor(bundle, "tool_search_output")}"', 1)[1].split("</p>")[0])
    assert "Answers tool_search_call (output item 2), and is shown beside it there." in output


def test_deferred_namespaced_tools_say_who_may_call_them(logged_in):
    html = text(page(logged_in, demo("39")))
    assert "The sales CRM: customers and their orders." in html
    assert "Deferred: hidden from the model until a tool_search finds it." in html
    assert "May be called by programs only (programmatic tool calling)" in html
    assert "Lets the model write a JavaScript program" in html


def test_a_call_made_by_a_program_links_to_the_program(logged_in):
    bundle = demo("39")
    html = page(logged_in, bundle)
    call = article(html, anchor(bundle, "function_call"))
    program = anchor(bundle, "program")
    assert f'href="#{program}"' in call
    assert "in namespace <strong>crm</strong>" in call
    assert "not by the model directly" in text(call)
    shown = text(article(html, program))
    assert "const customers = await tools.crm.find_customers" in shown
    assert "the program is still running" in shown


def test_a_program_is_shown_beside_its_result_and_the_message_phases_are_named(logged_in):
    bundle = demo("40")
    html = page(logged_in, bundle)
    program = text(article(html, anchor(bundle, "program", "input")))
    assert "program_output" in program and "Spree Logistik GmbH" in program
    result = text(article(html, anchor(bundle, "program_output")))
    assert "Answers program" in result
    assert "commentary: the model's working notes before its final answer" in text(
        article(html, anchor(bundle, "message", "input", 1))
    )
    assert "final answer" in text(article(html, anchor(bundle, "message")))


def test_the_ga_computer_tool_shows_its_batch_of_actions_in_order(logged_in):
    bundle = demo("41")
    html = page(logged_in, bundle)
    batch = text(article(html, anchor(bundle, "computer_call")))
    assert "5 actions, done in order:" in batch
    assert "click left at (412, 188) type “Lyon” press TAB type “2026-04-14”" in batch
    assert "click left at (530, 402) holding SHIFT" in batch
    assert "The computer tool (generally available)" in text(html)
    screenshot = text(article(html, anchor(bundle, "computer_call", "input")))
    assert "Action: take a screenshot" in screenshot


def test_shell_environments_and_skills_are_said_with_domain_secrets_masked(logged_in):
    bundle = demo("42")
    html = page(logged_in, bundle)
    shown = text(html)
    assert "A container the API creates for this request, with 4 GB of memory" in shown
    assert "network access only to pypi.org, files.pythonhosted.org, api.github.com" in shown
    assert "GITHUB_TOKEN to api.github.com (•••• masked)" in shown
    assert "skill_6f1c2b9a (version 3); “incident-notes” sent inline as a zip" in shown
    assert "demo-secret-not-a-real-token" not in html
    local = text(article(html, anchor(bundle, "shell_call", "input")))
    assert "The caller's own machine" in local
    container = text(article(html, anchor(bundle, "shell_call")))
    assert "The container cntr_69a1f3c2b8e4d5f6a7b8c9d0" in container


def test_tools_and_settings_changed_mid_conversation_are_said(logged_in):
    bundle = demo("42")
    html = page(logged_in, bundle)
    added = text(article(html, anchor(bundle, "additional_tools", "input")))
    assert "From here on, 1 more tool is available to the model, given by the developer" in added
    assert "page_oncall" in added
    update = text(article(html, anchor(bundle, "configuration_update", "input")))
    assert (
        "From here on, reasoning effort becomes high; the output must match the JSON schema "
        "“incident_summary” (strict)."
    ) in update
    assert "next_step" in update
    trigger = text(article(html, anchor(bundle, "compaction_trigger", "input")))
    assert "Asks the API to compact the conversation here" in trigger


def test_an_audio_input_part_says_its_format_and_size(logged_in):
    audio = {"type": "input_audio", "input_audio": {"data": "UklGRiQAAABXQVZF", "format": "wav"}}
    bundle = {
        "response": {
            "id": "resp_audio",
            "object": "response",
            "created_at": 1767225600,
            "status": "completed",
            "model": "gpt-5",
            "output": [],
            "tools": [],
        },
        "input_items": [
            {"type": "message", "id": "msg_a", "role": "user", "content": [audio]},
        ],
    }
    store.save_bundle(bundle["response"], bundle["input_items"], source="demo")
    shown = text(page(logged_in, bundle))
    assert "Audio input, wav: 12 B (16 base64 characters, not played here)" in shown
