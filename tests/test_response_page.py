"""The response page through the test client: what a person sees for every item type,
calls beside their outputs, parameters, usage and cost, long content, live status, the
pattern page, and upstream failures as pages with honest status codes."""

import json
import re
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from inspector import pricing, store
from inspector.models import StoredResponse
from inspector.schemas import ITEM_TYPES
from inspector.schemas.tools import TOOL_TYPES
from tests.factories import response_body, user_items

pytestmark = pytest.mark.django_db

DEMO = Path(__file__).resolve().parent.parent / "inspector" / "demo"


def demo_id(prefix: str) -> str:
    (path,) = DEMO.glob(f"{prefix}*.json")
    return str(json.loads(path.read_text())["response"]["id"])


@pytest.fixture(scope="module")
def _demo_once(django_db_setup: Any, django_db_blocker: Any) -> Any:
    """The demo data, loaded once for this module (loading takes seconds), removed after."""
    with django_db_blocker.unblock():
        report = store.load_demo()
    assert report.failed == 0
    yield
    with django_db_blocker.unblock():
        StoredResponse.objects.all().delete()


@pytest.fixture
def demo(_demo_once: Any) -> None:
    pass


@pytest.fixture(autouse=True)
def test_prices(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, datetime]]:
    """A made-up price list, so no test depends on real prices: $1 per input token (cached
    ones $0.10), $2 per output token, a 10,000-token window; "mystery" has no price."""
    asked: list[tuple[str, datetime]] = []

    def price(model: str, **kw: Any) -> pricing.Cost | None:
        asked.append((model, kw["when"]))
        if model.startswith("mystery"):
            return None
        cached = Decimal(kw["cached_tokens"])
        uncached = Decimal(kw["input_tokens"]) - cached
        output = Decimal(kw["output_tokens"]) * 2
        return pricing.Cost(
            model, f"Test {model}", uncached, cached / 10, output,
            uncached + cached / 10 + output, kw["when"], 10_000,
        )  # fmt: skip

    monkeypatch.setattr(pricing, "price", price)
    # What the store keeps for the list: the same made-up total.
    monkeypatch.setattr(
        pricing, "total", lambda model, **kw: getattr(price(model, **kw), "total", None)
    )
    return asked


def page(client: Any, response_id: str) -> str:
    response = client.get(f"/responses/{response_id}/")
    assert response.status_code == 200
    return str(response.content.decode())


def article(html: str, anchor: str) -> str:
    """The HTML of one item card (item cards never nest)."""
    return html.split(f'id="{anchor}"', 1)[1].split("</article>", 1)[0]


def keep(body: dict[str, Any], items: list[dict[str, Any]] | None = None) -> str:
    full = {
        "object": "response",
        "created_at": 1767225600,
        "status": "completed",
        "model": "gpt-5",
        "tools": [],
        "output": [],
        **body,
    }
    store.save_bundle(full, items or [], source="demo")
    return str(full["id"])


def text(html: str) -> str:
    """The page's text with tags removed and entities of quotes undone, for phrase checks."""
    plain = re.sub(r"<[^>]+>", " ", html)
    return re.sub(r"\s+", " ", plain.replace("&quot;", '"').replace("&#x27;", "'"))


# --- the demo data ------------------------------------------------------------------------


def test_every_demo_response_opens_with_no_unknown_card(logged_in, demo):
    ids = list(
        StoredResponse.objects.filter(
            source="demo", id__in=[demo_id(p.name[:3]) for p in DEMO.glob("*.json")]
        ).values_list("id", flat=True)
    )
    assert len(ids) == len(list(DEMO.glob("*.json")))
    for response_id in ids:
        html = page(logged_in, response_id)
        assert "item-unknown" not in html, response_id
        assert "unknown type" not in html, response_id
        assert "Unknown content part" not in html, response_id


def test_the_header_shows_the_facts_with_dates_and_duration(logged_in, demo):
    html = page(logged_in, demo_id("34_"))
    flat = text(html)
    assert "gpt-4o-2024-11-20" in flat
    assert re.search(r"Created \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC", flat)
    assert re.search(r"Duration \d+\.\d s", flat)
    assert "conv_c3cb558ef1c05a06cd48d03cb598fbc5f3583987613ee2e7" in html
    assert f'href="https://platform.openai.com/logs/{demo_id("34_")}"' in html
    assert 'data-copy-target="response-id"' in html


def test_a_chained_response_links_to_the_previous_one(logged_in, demo):
    html = page(logged_in, demo_id("02_"))
    previous = json.loads(next(DEMO.glob("02_*.json")).read_text())["response"]
    assert f'href="/responses/{previous["previous_response_id"]}/"' in html


# --- calls beside their outputs -----------------------------------------------------------


def test_a_function_call_shows_formatted_arguments_beside_its_output(logged_in, demo):
    html = page(logged_in, demo_id("29_"))
    card = article(html, "item-fc_f39620ade83061144e7fc527b1338db78f60187e48c8771c")
    assert "get_pagerduty_incident" in card
    assert "call_flPS2Yd9MYXZxGmhLilDRzp3" in card
    assert '<span class="nt">&quot;incident_id&quot;</span>' in card
    assert 'class="pair-answer"' in card
    assert "Checkout 5xx rate &gt; 5% (EU)" in card
    answer = article(html, "item-fco_cdee513d211dbe1a07c214d32e41b0dc59bab7b3287d3629")
    assert "Answers" in answer
    assert 'href="#item-fc_f39620ade83061144e7fc527b1338db78f60187e48c8771c"' in answer


def test_an_unanswered_call_in_the_output_says_where_its_answer_goes(logged_in):
    call = {"type": "function_call", "id": "fc_alone", "call_id": "call_alone", "name": "f",
            "arguments": "{}"}  # fmt: skip
    html = page(logged_in, keep({"id": "resp_alone", "output": [call]}))
    assert (
        "Not answered in this response: the output goes into the input of the next request." in html
    )


def test_a_call_answered_in_the_next_stored_response_links_to_that_answer(logged_in, demo):
    card = article(
        page(logged_in, demo_id("01_")), "item-fc_e5d5dec480d1bc309371ff91b0bf4f87ffd19f5a5b2b7230"
    )
    assert "Not answered in this response" not in card
    assert f'href="/responses/{demo_id("02_")}/goto/?input=1">in a later response' in card


def test_an_output_whose_call_was_in_an_earlier_response_says_so(logged_in, demo):
    html = page(logged_in, demo_id("02_"))
    assert (
        "a call that is not among this response's items: it came from an earlier response" in html
    )


def test_invalid_json_arguments_are_marked_and_shown_as_sent(logged_in):
    rid = keep(
        {
            "id": "resp_badargs",
            "output": [
                {"type": "function_call", "call_id": "c1", "name": "f", "arguments": '{"a": 1'}
            ],
        }
    )
    card = article(page(logged_in, rid), "item-output-0")
    assert "Invalid JSON" in card
    assert "{&quot;a&quot;: 1</pre>" in card


def test_an_output_anywhere_in_the_input_pairs_with_a_call_on_another_page(logged_in):
    items: list[dict[str, Any]] = [
        {"id": "fc_early", "type": "function_call", "call_id": "call_far", "name": "slow",
         "arguments": "{}"},
        *({"id": f"msg_{i}", "type": "message", "role": "user", "content": f"filler {i}"}
          for i in range(120)),
        {"id": "fco_late", "type": "function_call_output", "call_id": "call_far",
         "output": "ANSWER-FROM-PAGE-THREE"},
    ]  # fmt: skip
    rid = keep({"id": "resp_far"}, items)
    card = article(page(logged_in, rid), "item-fc_early")
    assert "ANSWER-FROM-PAGE-THREE" in card
    # On another page: the link loads the page that shows it.
    assert f'href="/responses/{rid}/goto/?input={len(items)}"' in card
    last = (len(items) - 1) // store.INPUT_PAGE_SIZE + 1  # the page the last item is on
    third = logged_in.get(f"/responses/{rid}/items/?page={last}").content.decode()
    answer = article(third, "item-fco_late")
    assert f'href="/responses/{rid}/goto/?input=1"' in answer


def test_the_page_takes_the_same_number_of_queries_for_60_or_600_input_items(logged_in):
    def queries(n: int) -> int:
        items: list[dict[str, Any]] = []
        for i in range(n // 2):
            items.append(
                {
                    "id": f"fc_{i}",
                    "type": "function_call",
                    "call_id": f"c{i}",
                    "name": "f",
                    "arguments": "{}",
                }
            )
            items.append({"id": f"fo_{i}", "type": "function_call_output",
                          "call_id": f"c{(i + 7) % (n // 2)}", "output": "ok"})  # fmt: skip
        rid = keep({"id": f"resp_q{n}"}, items)
        with CaptureQueriesContext(connection) as captured:
            page(logged_in, rid)
        return len(captured)

    assert queries(60) == queries(600)


def test_shell_commands_read_as_a_transcript_with_outputs_and_outcomes(logged_in, demo):
    html = page(logged_in, demo_id("24_"))
    card = article(html, "item-sh_ed41f7577d33cf664d7d8a55cc52bc92734083804336c2e7")
    assert "pytest -x -q tests/integration</pre>" in card
    assert '<pre class="stderr">WARNING redis' in card
    assert '<p class="outcome failed">exit code 1</p>' in card
    assert "timeout 2 min 00 s" in card
    timed_out = article(html, "item-sh_1efb41e3eb629fc3d2af54096caefc8ab6ec8222ca171719")
    assert '<p class="outcome failed">timed out</p>' in timed_out


def test_a_local_shell_call_shows_its_command_directory_and_exit_code(logged_in, demo):
    html = page(logged_in, demo_id("23_"))
    card = article(html, "item-lsh_3fbf283fad4eeb67f85c41dcc9ab312cd08102411c394cd1")
    assert "bash -lc &#x27;make test 2&gt;&amp;1 | tail -n 25&#x27;" in card
    assert "/home/dev/src/ledger" in card
    assert "CI=1" in card
    assert "exit code 2 after 14.2 s" in card
    assert "decimal.InvalidOperation" in card


def test_patches_show_each_operation_with_a_highlighted_diff_and_the_result(logged_in, demo):
    html = page(logged_in, demo_id("25_"))
    update = article(html, "item-apc_f50f0717115232ab7bf7a616ba14ab588607ab0dce450e10")
    assert "update orders/worker.py" in update
    assert '<span class="gi">+    client = redis.Redis.from_url' in update
    assert '<span class="gd">-    client = redis.Redis.from_url' in update
    assert "The patch was applied" in update
    delete = article(html, "item-apc_a4de112966235ac96d0bd4500d303f643201757dc44daa0d")
    assert "delete tests/integration/fixtures/blocking_worker.json" in delete
    assert "The patch failed" in delete
    assert "does not exist" in delete


def test_computer_actions_read_in_words_with_the_screenshot_beside_them(logged_in, demo):
    drag = text(page(logged_in, demo_id("16_")))
    assert "drag along (" in drag and "→" in drag
    replay = page(logged_in, demo_id("21_"))
    card = article(replay, "item-cu_b4c15dda8b5c0cc49b8f1659bcda8420eb9d2338b913cb7d")
    assert "take a screenshot" in card
    assert "Screenshot file <code>file-yyqUMWCUtUoaiMP5IgAXz8</code>" in card
    turn2 = page(logged_in, demo_id("12_"))
    assert re.search(r'<img src="data:image/png;base64,[A-Za-z0-9+/=]+" alt="Screenshot"', turn2)


def test_custom_tool_calls_show_free_text_input_and_their_grammar(logged_in, demo):
    html = page(logged_in, demo_id("26_"))
    assert "SELECT region, SUM(amount_eur) AS revenue FROM orders" in html
    assert "constrained by a <strong>lark</strong> grammar" in html
    replay = page(logged_in, demo_id("27_"))
    card = article(replay, "item-ctc_362e00da1d8bc5c561c6a77f246601f24924b785237fe504")
    assert "DACH,1284033.50" in card


def test_mcp_tools_calls_errors_and_approvals(logged_in, demo):
    html = page(logged_in, demo_id("09_"))
    assert "MCP server <strong>billing</strong> offers 3 tools." in html
    assert '<span class="badge status-failed">destructive</span>' in html
    failed = article(html, "item-mcp_fed53d9c9d781fcd584f41471e5caf0904b2b20622a9ae19")
    assert "mcp_tool_execution_error: upstream billing-api timed out after 10000 ms" in failed
    request = article(html, "item-mcpr_4d5ed66f44874e5c52e002b8b473478c3cde607e0495c9b8")
    # The next stored response (10_) approved it: the request shows that answer.
    assert f'href="/responses/{demo_id("10_")}/goto/?input=1">in a later response' in request
    assert "<strong>Approved</strong>" in request
    replay = page(logged_in, demo_id("29_"))
    asked = article(replay, "item-mcpr_54d1092feebd2aff12b1300b2434a1f6d2908f5f5792ee79")
    assert "<strong>Denied</strong>: Not yet — wording needs review" in asked


def test_mcp_secrets_are_masked_on_the_page(logged_in, demo):
    html = page(logged_in, demo_id("09_"))
    assert "sk-demo-not-a-real-token" not in html
    assert "•••• set, masked (24 characters)" in html
    assert '<code>X-Tenant-Id</code>: <span class="masked">•••• masked</span>' in html
    assert "always for issue_refund; never for read-only tools" in html


# --- hosted tools -------------------------------------------------------------------------


def test_web_search_actions_and_sources(logged_in, demo):
    html = page(logged_in, demo_id("04_"))
    flat = text(html)
    assert "searched for “Louvre opening hours closed Tuesday late opening”" in flat
    assert "opened a page" in flat and "looked for “Tuesday” in a page" in flat
    assert '<a href="https://www.louvre.fr/en/visit/faq" rel="noopener noreferrer nofollow"' in html
    assert "Only these domains" in html and "louvre.fr" in html


def test_file_search_shows_queries_results_scores_and_attributes(logged_in, demo):
    html = page(logged_in, demo_id("05_"))
    assert "handbook-de-2026.pdf" in html
    assert "score 0.913" in html
    assert "<dt>region</dt><dd>DE</dd>" in html
    assert "region in [DE, EU] and doc_year ≥ 2025 and status = &quot;published&quot;" in html


def test_file_search_without_results_says_how_to_get_them(logged_in):
    rid = keep(
        {"id": "resp_fs", "output": [{"type": "file_search_call", "id": "fs_1", "queries": ["q"]}]}
    )
    assert 'Results not included: ask with include=["file_search_call.results"]' in page(
        logged_in, rid
    )


def test_code_interpreter_code_is_highlighted_with_logs_and_images(logged_in, demo):
    html = page(logged_in, demo_id("07_"))
    card = article(html, "item-ci_5e8f7c79b1d9d5951ed7e3f511d3b612368d33c5d75f545a")
    assert '<span class="kn">import</span>' in card
    assert "2026-02-02    188" in card
    assert '<img src="data:image/png;base64,' in card
    assert "cntr_d28dff15c5c8f917ba8d56b78dd45d6e1e33affa26034961" in card


def test_a_generated_image_is_an_image_with_its_details_never_base64_text(logged_in, demo):
    html = page(logged_in, demo_id("08_"))
    card = article(html, "item-ig_8c06692754910e4af1b08369aa65ebf7bb15e5054029ebce")
    assert re.search(r'<img src="data:image/png;base64,iVBOR[^"]+" alt="A flat, minimalist', card)
    assert "<dt>Size</dt><dd>1024x1024</dd>" in card
    assert "<dt>Quality</dt><dd>medium</dd>" in card
    body = card.split('class="raw"', 1)[0]
    assert body.count("iVBORw0KGgo") == 1


# --- messages and their parts ------------------------------------------------------------


def test_roles_are_told_apart(logged_in, demo):
    html = page(logged_in, demo_id("38_"))
    assert '<span class="role role-developer">developer</span>' in html
    assert '<span class="role role-user">user</span>' in html
    assert '<span class="role role-assistant">assistant</span>' in html


def test_remote_images_wait_for_a_click_and_file_ids_are_references(logged_in, demo):
    html = page(logged_in, demo_id("08_"))
    url = "https://assets.northwind.example/brand/logo-reference@2x.png"
    assert f'data-src="{url}"' in html
    assert f'<img src="{url}"' not in html
    assert "Image file <code>file-ZqGGWbfbcNy6qQmusxSMdF</code>" in html


def test_an_input_file_shows_its_name_and_the_size_of_its_inline_data(logged_in, demo):
    flat = text(page(logged_in, demo_id("29_")))
    assert "postmortem-template.pdf · inline data: 561 B of application/pdf" in flat


def test_output_text_is_markdown_with_a_raw_toggle_and_its_citations(logged_in, demo):
    html = page(logged_in, demo_id("04_"))
    assert "<strong>closed on Tuesdays</strong>" in html
    assert "data-md-toggle" in html and 'class="md-raw" hidden' in html
    assert "**closed on Tuesdays**" in html  # the raw text, hidden until toggled
    assert (
        '<a href="https://www.louvre.fr/en/visit/hours-admission?utm_source=openai" '
        'rel="noopener noreferrer nofollow" target="_blank">Opening hours and admission' in html
    )


def test_file_and_container_citations_name_their_files(logged_in, demo):
    html = page(logged_in, demo_id("07_"))
    assert "container file <strong>weekly_signups.png</strong>" in html
    assert "generated file <code>cfile_f61f6a42fbd5c6aaff292f3ee60077bd</code>" in html
    assert "file <strong>handbook-de-2026.pdf</strong>" in page(logged_in, demo_id("05_"))


def test_a_refusal_is_shown_as_a_refusal(logged_in, demo):
    html = page(logged_in, demo_id("35_"))
    assert (
        '<div class="part part-refusal" role="note"><p class="refusal-label">The model refused'
        in html
    )


def test_logprobs_shade_tokens_with_their_alternatives(logged_in, demo):
    html = page(logged_in, demo_id("06_"))
    token = re.search(
        r'<span class="lp lp-(\d)" tabindex="0" title="([^"]*)"[^>]*>negative</span>', html
    )
    assert token is not None
    assert token.group(1) == "9"
    assert "&quot;mixed&quot; 5.33 %" in token.group(2)


def test_reasoning_summaries_and_the_encrypted_only_case(logged_in, demo):
    html = page(logged_in, demo_id("07_"))
    assert "<strong>Planning the analysis</strong>" in html
    encrypted = keep(
        {
            "id": "resp_enc",
            "reasoning": {"effort": "high", "summary": None},
            "usage": {"input_tokens": 10, "output_tokens": 900, "total_tokens": 910,
                      "output_tokens_details": {"reasoning_tokens": 832}},
            "output": [{"type": "reasoning", "id": "rs_1", "summary": [],
                        "encrypted_content": "gAAA" * 100}],
        }
    )  # fmt: skip
    card = article(page(logged_in, encrypted), "item-rs_1")
    assert "Only encrypted reasoning: 400 characters of encrypted_content" in card
    assert "832 reasoning tokens" in card
    assert "set reasoning.summary to &quot;auto&quot;" in card


def test_compaction_is_opaque_with_its_size(logged_in, demo):
    flat = text(page(logged_in, demo_id("36_")))
    assert re.search(r"compressed into [\d,]+ characters of encrypted_content", flat)


def test_an_item_reference_links_to_its_item_when_it_is_here(logged_in, demo):
    flat = text(page(logged_in, demo_id("28_")))
    assert (
        "Refers to msg_354eae6329902399240c79e308709ec62267b3a224f86b76 , an item kept upstream"
        in flat
    )
    rid = keep(
        {"id": "resp_ref"},
        [
            {"id": "msg_here", "type": "message", "role": "user", "content": "hello"},
            {"type": "item_reference", "id": "msg_here"},
        ],
    )
    card = article(page(logged_in, rid), "item-input-1")
    assert 'href="#item-msg_here"' in card


# --- parameters ---------------------------------------------------------------------------


def test_parameters_show_instructions_as_items_schema_prompt_and_metadata(logged_in, demo):
    html = page(logged_in, demo_id("35_"))
    assert 'id="item-instructions-0"' in html
    assert "You are the Northwind Pharmacy assistant" in html
    assert "pmpt_0785aefbc84ec704c507601ac2a28ffaa3d274233dd64e18" in html
    assert "<code>brand</code></th><td>Northwind Pharmacy" in html
    schema = page(logged_in, demo_id("06_"))
    assert "Response format: JSON schema “review_classification” (strict)" in schema
    assert '<code>sentiment</code> <span class="muted">string: &quot;positive&quot;' in schema
    ops = text(page(logged_in, demo_id("29_")))
    assert "Tool choice auto: the model decides" in ops
    assert "incident INC-2291" in ops
    assert "Berlin, DE (Europe/Berlin)" in ops


# --- usage and cost -----------------------------------------------------------------------


def test_usage_is_split_and_priced_as_of_the_creation_date(logged_in, demo, test_prices):
    rid = demo_id("29_")
    test_prices.clear()  # storing the demo priced it too
    html = page(logged_in, rid)
    flat = text(html)
    # 7,705 input (6,912 cached), 96 output: $793 + $691.20 + $192 = $1,676.20.
    assert "cached 6,912 90 % $691.20" in flat
    assert "uncached 793 10 % $793.00" in flat
    assert "Total 7,801 $1,676.20" in flat
    assert "Priced as Test gpt-4.1 on 2026-02-24" in flat
    assert "the input fills 77 % of it" in flat
    assert {when.date().isoformat() for model, when in test_prices} == {"2026-02-24"}
    assert {model for model, _ in test_prices} >= set(pricing.COMPARE_MODELS)


def test_an_unknown_model_has_no_price_rather_than_a_guess(logged_in):
    rid = keep(
        {
            "id": "resp_mystery",
            "model": "mystery-model",
            "usage": {"input_tokens": 5, "output_tokens": 5, "total_tokens": 10},
        }
    )
    html = page(logged_in, rid)
    assert "No price known for the model <code>mystery-model</code>" in html


# --- hostile content ----------------------------------------------------------------------


def test_hostile_text_is_escaped_everywhere(logged_in, demo):
    html = page(logged_in, demo_id("38_"))
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in html
    assert "<script>window" not in html
    assert "<img src=x" not in html and "<svg" not in html and "<iframe" not in html
    tags = re.findall(r"<[a-zA-Z][^>]*>", html)
    assert not [t for t in tags if re.search(r'(href|src)="\s*(javascript|data:text)', t)]
    assert not [t for t in tags if re.search(r"\son[a-z]+=", t)]
    assert "{{ settings.SECRET_KEY }}" in text(html)  # shown literally, never evaluated


# --- long content -------------------------------------------------------------------------


def test_a_huge_output_text_is_cut_once_and_shown_whole_on_request(logged_in):
    huge = "word " * 400_000 + "THE-VERY-END"
    rid = keep(
        {
            "id": "resp_huge",
            "output": [
                {"id": "msg_huge", "type": "message", "role": "assistant", "status": "completed",
                 "content": [{"type": "output_text", "text": huge, "annotations": []}]}
            ],
        }
    )  # fmt: skip
    html = page(logged_in, rid)
    assert "THE-VERY-END" not in html
    assert len(html) < 400_000
    assert 'hx-get="/responses/resp_huge/items/output/0/"' in html
    full = logged_in.get("/responses/resp_huge/items/output/0/", headers={"HX-Request": "true"})
    assert full.status_code == 200
    body = full.content.decode()
    assert body.strip().startswith('<article class="item')
    assert body.count("THE-VERY-END") == 1  # the text once; the item's raw JSON is cut
    assert len(body) < 2_300_000
    assert "too long to render as Markdown" in body


def test_a_long_answer_beside_its_call_shows_all_in_its_own_view_not_the_calls(logged_in):
    rid = keep(
        {
            "id": "resp_long_answer",
            "output": [
                {"type": "function_call", "id": "fc_1", "call_id": "call_1", "name": "f",
                 "arguments": "{}", "status": "completed"},
                {"type": "function_call_output", "id": "fco_1", "call_id": "call_1",
                 "output": "x " * 20_000},
            ],
        }
    )  # fmt: skip
    call = article(page(logged_in, rid), "item-fc_1")
    assert 'hx-get="/responses/resp_long_answer/items/output/1/"' in call
    assert "/items/output/0/" not in call


def test_the_full_view_of_a_huge_item_points_to_the_bundle_for_its_whole_json(logged_in):
    rid = keep(
        {
            "id": "resp_huge_json",
            "output": [
                {"type": "function_call", "id": "fc_1", "call_id": "call_1", "name": "f",
                 "arguments": json.dumps({"x": "y" * 200_000})}
            ],
        }
    )  # fmt: skip
    full = logged_in.get(f"/responses/{rid}/items/output/0/").content.decode()
    assert '<a href="/responses/resp_huge_json.json">The whole JSON is in the bundle.</a>' in full


def test_the_full_view_of_a_missing_item_is_not_found(logged_in):
    rid = keep({"id": "resp_small"})
    assert logged_in.get(f"/responses/{rid}/items/output/0/").status_code == 404
    assert logged_in.get(f"/responses/{rid}/items/elsewhere/0/").status_code == 404
    assert logged_in.get(f"/responses/{rid}/items/input/3/").status_code == 404


def test_input_items_come_in_pages_that_load_as_the_reader_scrolls(logged_in):
    items = [{"id": f"msg_{i}", "type": "message", "role": "user", "content": f"line {i}"}
             for i in range(120)]  # fmt: skip
    rid = keep({"id": "resp_pages"}, items)
    html = page(logged_in, rid)
    size = store.INPUT_PAGE_SIZE
    assert f"line {size - 1}" in html and f"line {size}" not in html
    link = f"/responses/{rid}/items/?page=2"
    # Without htmx the link opens the response page at page 2.
    assert f'href="/responses/{rid}/?page=2" hx-get="{link}" hx-trigger="revealed"' in html
    second = logged_in.get(link).content.decode()
    assert f"line {size}" in second and f"line {2 * size - 1}" in second
    assert f"line {2 * size}" not in second
    assert f'id="item-msg_{size}"' in second


# --- live status --------------------------------------------------------------------------


def running(status: str = "in_progress") -> dict[str, Any]:
    return {"id": "resp_live", "object": "response", "created_at": 1767225600,
            "status": status, "model": "o3-deep-research", "background": True,
            "output": [], "tools": []}  # fmt: skip


def test_a_running_response_polls_and_a_finished_one_does_not(logged_in):
    keep(running())
    html = page(logged_in, "resp_live")
    assert 'hx-post="/responses/resp_live/poll/" hx-trigger="every 5s"' in html
    keep({**running("completed"), "id": "resp_done"})
    assert "/poll/" not in page(logged_in, "resp_done")


def test_polling_refreshes_the_page_when_the_response_finishes(logged_in, upstream):
    keep(running())
    upstream.add(running("completed"))
    answer = logged_in.post("/responses/resp_live/poll/", headers={"HX-Request": "true"})
    assert answer.status_code == 200
    assert answer["HX-Refresh"] == "true"
    assert StoredResponse.objects.get(pk="resp_live").status == "completed"


def test_polling_keeps_going_while_running_and_through_an_upstream_outage(logged_in, upstream):
    keep(running())
    upstream.add(running("in_progress"))
    still = logged_in.post("/responses/resp_live/poll/", headers={"HX-Request": "true"})
    assert still.status_code == 200
    assert 'hx-trigger="every 5s"' in still.content.decode()
    upstream.override = lambda request: httpx.Response(503, json={"error": {"message": "busy"}})
    down = logged_in.post("/responses/resp_live/poll/", headers={"HX-Request": "true"})
    assert down.status_code == 504
    assert 'hx-trigger="every 5s"' in down.content.decode()
    assert "Could not check: The upstream API is down or too slow." in down.content.decode()


def test_polling_stops_when_waiting_cannot_help(logged_in, settings):
    settings.OPENAI_API_KEY = ""
    keep(running())
    answer = logged_in.post("/responses/resp_live/poll/", headers={"HX-Request": "true"})
    body = answer.content.decode()
    assert "hx-trigger" not in body
    assert "No API key is configured" in body and "checking has stopped" in body


def test_polling_without_htmx_goes_back_to_the_page(logged_in, upstream):
    keep(running())
    upstream.add(running("in_progress"))
    answer = logged_in.post("/responses/resp_live/poll/")
    assert answer.status_code == 302
    assert answer["Location"] == "/responses/resp_live/"


# --- upstream failures --------------------------------------------------------------------


def error(status: int, message: str = "nope", **headers: str) -> Any:
    return lambda request: httpx.Response(
        status, json={"error": {"message": message, "type": "x", "param": None, "code": None}},
        headers=headers,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("answer", "status", "words"),
    [
        (None, 404, "Was it created with store=false, or with another project's key?"),
        (error(401, "Incorrect API key provided"), 502, "The API key was refused"),
        (
            error(429, "Slow down", **{"retry-after-ms": "0"}),
            429,
            "Rate limited by the upstream API",
        ),
        (error(500, "oops"), 504, "The upstream API is down or too slow"),
        ("timeout", 504, "did not answer in time"),
        ("html", 502, "The upstream API sent something unexpected"),
    ],
)
def test_upstream_failures_are_pages_with_honest_status_codes(
    logged_in, upstream, answer, status, words
):
    def html_page(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, text="<html><script>window.__pwned=1</script></html>",
                              headers={"content-type": "text/html"})  # fmt: skip

    def timeout(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    upstream.override = {"html": html_page, "timeout": timeout}.get(answer, answer)  # type: ignore[arg-type]
    response = logged_in.get("/responses/resp_missing/")
    body = response.content.decode()
    assert response.status_code == status
    assert words.replace("'", "&#x27;") in body or words in body
    assert "<script>window" not in body
    assert "Traceback" not in body


# --- the pattern page ---------------------------------------------------------------------


def test_the_pattern_page_is_for_staff_only(logged_in, demo):
    assert logged_in.get("/patterns/").status_code == 403


def test_the_pattern_page_shows_one_item_of_every_type_and_every_tool(
    client, demo, django_user_model
):
    staff = django_user_model.objects.create_user(
        "sam", password="a-long-test-password-42", is_staff=True
    )
    client.force_login(staff)
    html = client.get("/patterns/").content.decode()
    for kind in ITEM_TYPES:
        section = html.split(f'id="pattern-{kind}"', 1)[1].split("</section>", 1)[0]
        assert f"item-{kind}" in section, kind
    assert "No demo example of" not in html
    assert "item-unknown" not in html
    for tool in TOOL_TYPES:
        assert f"tool-{tool.replace('_', '')}" in html or f"tool-{tool}" in html, tool


def test_long_instructions_text_is_cut_with_a_show_all_that_has_every_character(logged_in):
    words = [f"rule{n} <b>&" for n in range(3_000)]  # ~36,000 characters, hostile-looking
    rid = keep({"id": "resp_longinstructions", "instructions": " ".join(words)})
    html = page(logged_in, rid)
    url = f"/responses/{rid}/instructions/"
    assert f'href="{url}" hx-get="{url}"' in html
    shown = html.split('id="instructions"', 1)[1].split("</div></div>", 1)[0]
    assert "rule0 &lt;b&gt;&amp;" in shown and "rule2999" not in shown and "<b>" not in shown
    whole = logged_in.get(url).content.decode()
    assert "rule2999 &lt;b&gt;&amp;" in whole and "Show all" not in whole
    fragment = logged_in.get(url, headers={"HX-Request": "true"}).content.decode()
    assert fragment.lstrip().startswith('<div class="item" id="instructions">')
    assert "rule2999" in fragment and "<html" not in fragment


def test_instructions_in_full_is_a_404_without_text_instructions(logged_in):
    rid = keep({"id": "resp_noinstructions"})
    assert logged_in.get(f"/responses/{rid}/instructions/").status_code == 404
    listed = keep({"id": "resp_listinstructions", "instructions": [
        {"type": "message", "role": "developer", "content": "Be brief."}]})  # fmt: skip
    assert logged_in.get(f"/responses/{listed}/instructions/").status_code == 404


# --- the first view fetches; without a key, stored responses still open --------------------

RID = "resp_views0123"


def test_first_view_fetches_and_shows_the_header_facts(logged_in, upstream):
    upstream.add(
        response_body(
            RID,
            previous_response_id="resp_before",
            usage={"input_tokens": 1234, "total_tokens": 1300},
        ),
        user_items(2),
    )
    response = logged_in.get(f"/responses/{RID}/")
    assert response.status_code == 200
    page = response.content.decode()
    assert RID in page
    assert "gpt-5" in page
    assert "completed" in page
    assert 'href="/responses/resp_before/"' in page
    assert "1,234" in page
    assert StoredResponse.objects.get(pk=RID).fetched_by.username == "alice"


def test_without_a_key_an_unstored_id_says_to_set_openai_api_key(logged_in, upstream, settings):
    settings.OPENAI_API_KEY = ""
    response = logged_in.get("/responses/resp_notstored/")
    assert response.status_code == 503
    assert "OPENAI_API_KEY" in response.content.decode()
    assert upstream.requests == []


def test_without_a_key_stored_responses_still_open(logged_in, upstream, settings):
    settings.OPENAI_API_KEY = ""
    store.save_bundle(response_body(RID), user_items(2), source="import")
    assert logged_in.get(f"/responses/{RID}/").status_code == 200
    assert logged_in.get(f"/responses/{RID}.json").status_code == 200
    assert logged_in.get("/").status_code == 200
    refresh = logged_in.post(f"/responses/{RID}/refresh/")
    assert "OPENAI_API_KEY" in refresh.content.decode()
    assert upstream.requests == []


# --- actions that cannot work are disabled, with the reason ---------------------------------


def test_without_a_key_refresh_is_disabled_and_says_why(logged_in, settings):
    settings.OPENAI_API_KEY = ""
    keep({"id": "resp_offline"})
    html = page(logged_in, "resp_offline")
    assert 'action="/responses/resp_offline/refresh/"' not in html
    assert (
        '<button type="button" disabled aria-describedby="refresh-why">Refresh from upstream'
        "</button>" in html
    )
    assert "Needs OPENAI_API_KEY, which this server does not have." in html


def test_with_a_key_refresh_is_a_form(logged_in):
    keep({"id": "resp_online"})
    html = page(logged_in, "resp_online")
    assert 'action="/responses/resp_online/refresh/"' in html
    assert "disabled" not in html


def test_without_a_key_a_running_response_does_not_poll_and_says_why(logged_in, settings):
    settings.OPENAI_API_KEY = ""
    keep(running())
    html = page(logged_in, "resp_live")
    assert "/poll/" not in html
    assert "checking has stopped: checking needs OPENAI_API_KEY" in html


@pytest.mark.parametrize(("background", "linked"), [(True, True), (False, False), (None, False)])
def test_only_a_background_response_links_its_event_stream(logged_in, background, linked):
    keep({"id": "resp_bg", "background": background})
    assert (
        'href="/responses/resp_bg/events/">Event stream</a>' in page(logged_in, "resp_bg")
    ) is linked


def test_the_page_marks_where_an_incomplete_answer_was_cut_and_checks_structured_output(logged_in):
    store.load_demo()
    cut = page(logged_in, "resp_da715ae083a1f646b09731027c17f102907b2e2c94ce3c5d")  # 30_…
    assert "Cut here: <code>max_output_tokens</code>" in cut
    structured = page(logged_in, "resp_0ccd218c36c8cabac73a224da18ebb41624d92d1ff9385e3")  # 06_…
    assert "structured output · review_classification" in structured
    assert "✓ Fits its schema" in structured
