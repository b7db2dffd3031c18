"""The playground in Debian's chromium: live counting, inline errors, the API button against a
stand-in upstream served over real HTTP, attribution in steps, saving, and a clean console."""

import json
import re
from typing import Any

import pytest

from inspector import tokens
from inspector.schemas import InputTokensRequest
from tests.upstream import FakeUpstream, serve

pytestmark = pytest.mark.django_db(transaction=True)

# A 400 for a form with errors is an honest status; chromium logs it as a failed resource.
BAD_REQUEST = "Failed to load resource: the server responded with a status of 400 (Bad Request)"


@pytest.fixture(autouse=True)
def _encodings_installed() -> None:
    tokens.install_encoding_files()


def local_total(body: dict) -> int:  # type: ignore[type-arg]
    return tokens.count_request(InputTokensRequest.model_validate(body)).total


def test_typing_a_message_updates_the_local_count(watched):
    page = watched.page
    watched.goto("/playground/")
    first = page.locator("#local-total").inner_text()
    page.locator(".chat-add").click()
    page.locator(".chat-text").last.fill("Please summarise the attached quarterly report.")
    expected = local_total(
        {
            "model": "gpt-5.1",
            "input": [
                {"role": "user", "content": "Hello! What can you do?"},
                {"role": "user", "content": "Please summarise the attached quarterly report."},
            ],
        }
    )
    page.wait_for_function(
        "expected => document.querySelector('#local-total').textContent === expected",
        arg=f"{expected:,}",
    )
    assert first != f"{expected:,}"
    # The editor wrote the message into the raw JSON the form sends.
    items = json.loads(page.locator("#id_input_items").input_value())
    assert items[-1] == {
        "role": "user",
        "content": "Please summarise the attached quarterly report.",
    }
    watched.assert_clean()


def input_view(page: Any, name: str) -> None:
    """Switch the input to one of its two views ("Message rows" or "JSON")."""
    page.get_by_role("button", name=name, exact=True).click()


def test_editing_the_raw_json_rebuilds_the_message_editor(watched):
    page = watched.page
    watched.goto("/playground/")
    assert not page.locator("#id_input_items").is_visible()  # message rows first
    input_view(page, "JSON")
    page.locator("#id_input_items").fill(
        json.dumps(
            [
                {"role": "developer", "content": "Be brief."},
                {"role": "user", "content": "Hi"},
                {"type": "function_call", "call_id": "c1", "name": "lookup", "arguments": "{}"},
            ]
        )
    )
    assert page.locator(".chat-role").evaluate_all("els => els.map(e => e.value)") == [
        "developer",
        "user",
    ]
    assert "function_call · lookup" in page.locator(".chat-other").inner_text()
    input_view(page, "Message rows")
    assert not page.locator("#id_input_items").is_visible()
    page.locator(".chat-role").first.select_option("system")
    assert json.loads(page.locator("#id_input_items").input_value())[0]["role"] == "system"
    watched.assert_clean()


def test_invalid_json_shows_where_and_keeps_what_was_typed(watched):
    page = watched.page
    watched.goto("/playground/")
    typed = '[\n  {"role": "user", "content": "one"}\n  {"role": "user", "content": "two"}\n]'
    input_view(page, "JSON")
    page.locator("#id_input_items").fill(typed)
    error = page.locator("#errors-input_items")
    error.get_by_text("line 3, column 3").wait_for()
    assert (
        "Invalid JSON in input at line 3, column 3: Expecting ',' delimiter." in error.inner_text()
    )
    assert page.locator("#id_input_items").input_value() == typed
    assert "does not parse yet" in page.locator(".chat-note").inner_text()
    assert page.locator(".chat-add").is_disabled()
    # Fixing it clears the message and counts again.
    page.locator("#id_input_items").fill(typed.replace('"}\n  {', '"},\n  {'))
    page.wait_for_function("() => document.querySelector('#errors-input_items').textContent === ''")
    assert page.locator("#local-total").is_visible()
    assert set(watched.console_errors) <= {BAD_REQUEST}
    watched.console_errors.clear()
    watched.assert_clean()


def test_the_api_button_shows_the_exact_count_from_a_stand_in_upstream(watched, settings):
    fake = FakeUpstream()
    fake.input_tokens = lambda body: 4321
    with serve(fake) as base_url:
        settings.OPENAI_BASE_URL = base_url
        page = watched.page
        watched.goto("/playground/")
        page.locator("#api-count-button").click()
        page.locator("#api-total").wait_for()
        local = int(page.locator("#local-total").inner_text().replace(",", ""))
        assert page.locator("#api-total").inner_text() == "4,321"
        assert page.locator("#api-difference").inner_text() == f"+{4321 - local:,}"
        assert "The API counted" in page.locator(".explanation").inner_text()
        sent = json.loads(fake.requests[-1].content)
        assert sent["model"] == "gpt-5.1"
        assert fake.requests[-1].headers["authorization"].startswith("Bearer sk-test")
        # Changing the request marks the API count as stale, and typing never asks the API.
        page.locator("#id_model").fill("gpt-4.1")
        page.get_by_text("The request changed since the API count").wait_for()
        page.locator("#id_instructions").press_sequentially("Be brief.")
        page.wait_for_function(
            "() => document.querySelector('#breakdown').textContent.includes('instructions')"
        )
        assert len(fake.requests) == 1
    watched.assert_clean()


def test_attribution_confirms_the_calls_then_fills_every_row(watched, settings):
    fake = FakeUpstream()
    fake.input_tokens = lambda body: 1000 + 100 * len(body.get("input") or [])
    with serve(fake) as base_url:
        settings.OPENAI_BASE_URL = base_url
        page = watched.page
        watched.goto("/playground/")
        input_view(page, "JSON")
        page.locator("#id_input_items").fill(
            json.dumps([{"role": "user", "content": f"message {i}"} for i in range(6)])
        )
        page.locator("#local-total").wait_for()
        page.get_by_role("button", name="Attribute per item…").click()
        assert page.locator("#attribution-calls").inner_text() == "7 times"
        assert fake.requests == []
        page.get_by_role("button", name="Make 7 calls").click()
        page.get_by_text("7 of 7 calls made").wait_for()
        exact = page.locator(".pg-attribution td:nth-child(3)").all_inner_texts()
        assert exact == ["100"] * 6
        assert len(fake.requests) == 7
    watched.assert_clean()


def test_saving_opens_the_permalink_with_the_same_request(watched):
    page = watched.page
    watched.goto("/playground/")
    page.locator("#id_instructions").fill("Answer in French.")
    page.locator("#session-name").fill("French support")
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(re.compile(r"/playground/french-support-[0-9a-f]{6}/$"))
    assert page.locator("#session-title").inner_text() == "French support"
    assert page.locator("#id_instructions").input_value() == "Answer in French."
    watched.assert_clean()


def test_the_token_view_shows_ids_and_can_show_whitespace(watched):
    page = watched.page
    watched.goto("/playground/")
    token = page.locator(".tok").first
    assert re.fullmatch(r"token \d+", token.get_attribute("title"))
    page.locator("#id_show_whitespace").check()
    page.locator(".tokens.show-ws").first.wait_for()
    assert "·" in page.locator(".tokens").first.inner_text()
    watched.assert_clean()
