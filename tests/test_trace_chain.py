"""The trace of a run: chain walking, repeated context, usage per turn, the page and its walk."""

from decimal import Decimal
from types import SimpleNamespace

import httpx
import pytest

from bench import data
from inspector import rendering, store, trace
from inspector.schemas import Response, item_adapter

SUPPORT = [
    "resp_237798054d2311f6c8f759071fc0acda19c35f9e4c542ed5",
    "resp_fc76d09c0c4338a83dd3e9ecf0fb99151899dedb8683eb14",
    "resp_07f7f8ee6cb1bd0e84eb40bb0f7febc5b7005c11b19f2f16",
]
CUA_LAST = "resp_c4881f9aedefe36"  # prefix of demo 20; the full id is looked up


def fake_price(model, *, input_tokens, cached_tokens, output_tokens, when):
    if model == "unpriced":
        return None
    return SimpleNamespace(total=Decimal(input_tokens - cached_tokens) + Decimal(output_tokens))


def response(rid, output=(), usage=None, previous=None, model="m", created=1_700_000_000):
    body = {
        "id": rid,
        "object": "response",
        "created_at": created,
        "model": model,
        "status": "completed",
        "output": list(output),
        "tools": [],
        "previous_response_id": previous,
    }
    if usage is not None:
        inp, cached, out, reasoning = usage
        body["usage"] = {
            "input_tokens": inp,
            "input_tokens_details": {"cached_tokens": cached},
            "output_tokens": out,
            "output_tokens_details": {"reasoning_tokens": reasoning},
            "total_tokens": inp + out,
        }
    return body


def parsed(raws):
    return [item_adapter.validate_python(raw) for raw in raws]


USER = {"id": "msg_u1", "type": "message", "role": "user", "content": "find order 7"}
CALL = {"id": "fc_1", "type": "function_call", "call_id": "call_A", "name": "f", "arguments": "{}"}
ANSWER = {"id": "fco_1", "type": "function_call_output", "call_id": "call_A", "output": "7"}


# --- usage per turn ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("usages", "expected"),
    [
        # (input, cached, output, reasoning) per turn ->
        # (growth, reread, cost, running, partial) per turn
        (
            [(100, 0, 10, 5), (150, 64, 20, 0)],
            [(None, 0, 110, 110, False), (50, 110, 106, 216, False)],
        ),
        # cached tokens count as re-read when more than what the previous turn carried
        (
            [(100, 0, 10, 0), (500, 400, 1, 0)],
            [(None, 0, 110, 110, False), (400, 400, 101, 211, False)],
        ),
        # carried-over context is capped at this turn's input
        (
            [(100, 0, 50, 0), (120, 0, 1, 0)],
            [(None, 0, 150, 150, False), (20, 120, 121, 271, False)],
        ),
        # a turn without usage has no cost; the running total says it is partial from then on
        ([None, (10, 0, 1, 0)], [(None, None, None, 0, True), (None, 0, 11, 11, True)]),
    ],
)
def test_usage_rows_track_growth_reread_context_and_running_cost(usages, expected):
    responses = [
        Response.model_validate(response(f"resp_{n}", usage=u)) for n, u in enumerate(usages)
    ]
    rows = trace.usage_rows(responses, price=fake_price)
    got = [(r.growth, r.reread_tokens, r.cost, r.running_cost, r.running_partial) for r in rows]
    assert got == expected


def test_an_unpriced_model_leaves_the_turn_cost_empty_and_marks_the_total_partial():
    responses = [
        Response.model_validate(response("resp_a", usage=(10, 0, 1, 0))),
        Response.model_validate(response("resp_b", usage=(10, 0, 1, 0), model="unpriced")),
    ]
    rows = trace.usage_rows(responses, price=fake_price)
    assert [r.cost for r in rows] == [Decimal(11), None]
    assert rows[1].running_cost == Decimal(11)
    assert rows[1].running_partial


def test_shares_are_none_when_there_is_no_input_to_divide_by():
    row = trace.UsageRow(turn=1, input_tokens=0, cached_tokens=0, reread_tokens=0)
    assert row.cached_share is None
    assert row.reread_share is None


# --- building a trace ----------------------------------------------------------------


def build(*turns):
    return trace.build_trace(
        [(Response.model_validate(body), None, parsed(inputs)) for body, inputs in turns],
        price=fake_price,
    )


def test_calls_pair_with_answers_in_later_turns_and_unanswered_calls_are_marked():
    lonely = {**CALL, "id": "fc_2", "call_id": "call_B"}
    built = build(
        (response("resp_1", [CALL, lonely]), [USER]),
        (response("resp_2", [{"type": "message", "role": "assistant", "content": []}]), [ANSWER]),
    )
    call, unanswered = built.turns[0].outputs
    (answer,) = built.turns[1].new_inputs
    assert call.partner is answer
    assert answer.partner is call
    assert answer.anchor == "item-fco_1"
    assert unanswered.unanswered
    assert built.unanswered == 1
    assert [c.flags for c in built.calls] == [["undeclared"], ["no-output", "undeclared"]]


def test_resent_history_is_collapsed_by_id_and_by_identical_body():
    no_id = {"type": "message", "role": "user", "content": "hello"}
    built = build(
        (response("resp_1", [CALL]), [no_id, USER]),
        # a client resending everything: the same messages and the call, plus the new answer
        (response("resp_2"), [no_id, USER, CALL, ANSWER]),
    )
    second = built.turns[1]
    assert [e.item.type for e in second.new_inputs] == ["function_call_output"]
    assert [(e.position, first.anchor) for e, first in second.repeated] == [
        (0, "item-input-0"),
        (1, "item-msg_u1"),
        (2, "item-fc_1"),
    ]
    # the call pairs where it was first made, not where it was resent
    assert second.new_inputs[0].partner.anchor == "item-fc_1"


def test_a_repeated_call_is_audited_once():
    built = build((response("resp_1", [CALL]), []), (response("resp_2"), [CALL, ANSWER]))
    assert [(c.entry.anchor, c.answer.anchor) for c in built.calls] == [("item-fc_1", "item-fco_1")]


def test_new_inputs_past_the_limit_are_counted_not_shown(monkeypatch):
    monkeypatch.setattr(trace, "TURN_INPUT_LIMIT", 2)
    many = [{**USER, "id": f"msg_{n}"} for n in range(5)]
    built = build((response("resp_1"), many))
    assert len(built.turns[0].new_inputs) == 2
    assert built.turns[0].hidden_inputs == 3


# --- the chain in the store ----------------------------------------------------------


def demo_id(prefix):
    from inspector.models import StoredResponse

    return StoredResponse.objects.get(pk__startswith=prefix).pk


@pytest.mark.django_db
def test_the_support_chain_comes_back_oldest_first_in_two_queries(django_assert_num_queries):
    store.load_demo()
    with django_assert_num_queries(2):
        chain = store.chain_ending_at(SUPPORT[-1])
    assert [s.id for s in chain.responses] == SUPPORT
    assert chain.missing == ""
    assert chain.at_least == 3


@pytest.mark.django_db
def test_the_ten_turn_computer_use_chain_pairs_every_call_across_turns():
    store.load_demo()
    chain = store.chain_ending_at(demo_id(CUA_LAST))
    built = store.load_trace(chain)
    assert len(built.turns) == 10
    assert [c.type for c in built.calls] == ["computer_call"] * 9
    assert all(c.answer is not None and c.answer.turn == c.entry.turn + 1 for c in built.calls)


@pytest.mark.django_db
def test_a_chain_whose_first_turns_are_not_stored_names_the_next_to_fetch():
    for n in (3, 4):
        store.save_bundle(response(f"resp_{n}", previous=f"resp_{n - 1}"), [], source="import")
    chain = store.chain_ending_at("resp_4")
    assert [s.id for s in chain.responses] == ["resp_3", "resp_4"]
    assert chain.missing == "resp_2"
    assert chain.at_least == 3


@pytest.mark.django_db
def test_an_unknown_end_is_itself_the_missing_turn():
    chain = store.chain_ending_at("resp_nowhere")
    assert chain.responses == []
    assert chain.missing == "resp_nowhere"


@pytest.mark.django_db
def test_links_that_loop_stop_where_a_response_repeats():
    store.save_bundle(response("resp_x", previous="resp_y"), [], source="import")
    store.save_bundle(response("resp_y", previous="resp_x"), [], source="import")
    chain = store.chain_ending_at("resp_x")
    assert [s.id for s in chain.responses] == ["resp_y", "resp_x"]
    assert chain.cycle
    assert chain.missing == ""


@pytest.mark.django_db
def test_a_conversation_run_is_its_stored_turns_up_to_the_end_by_creation_time():
    for n, created in ((1, 100), (2, 200), (3, 300)):
        body = {**response(f"resp_c{n}", created=created), "conversation": {"id": "conv_1"}}
        store.save_bundle(body, [], source="import")
    store.save_bundle(response("resp_other", created=150), [], source="import")
    chain = store.chain_ending_at("resp_c2")
    assert chain.kind == "conversation"
    assert [s.id for s in chain.responses] == ["resp_c1", "resp_c2"]
    assert chain.later.id == "resp_c3"


@pytest.mark.django_db
def test_a_forty_turn_trace_page_takes_a_fixed_number_of_queries(
    logged_in, django_assert_max_num_queries
):
    previous = None
    for n in range(40):
        rid = f"resp_t{n:02d}"
        call = {**CALL, "id": f"fc_{n}", "call_id": f"call_{n}"}
        answer = {**ANSWER, "id": f"fco_{n}", "call_id": f"call_{n - 1}"}
        body = response(rid, [call], usage=(100 * n, 0, 10, 0), previous=previous, created=n)
        store.save_bundle(body, [answer] if n else [USER], source="import")
        previous = rid
    # 8 for the page, 1 for answers to its last calls in later responses (the tool-call
    # index), 1 for its audit entry (inspector/audit.py).
    with django_assert_max_num_queries(10):
        page = logged_in.get("/responses/resp_t39/trace/")
    assert page.status_code == 200
    assert page.content.count(b'class="card turn"') == 40


# --- the page and its walk -----------------------------------------------------------


@pytest.mark.django_db
def test_the_trace_page_shows_each_turn_and_pairs_calls_with_later_answers(logged_in):
    store.load_demo()
    page = logged_in.get(f"/responses/{SUPPORT[-1]}/trace/").content.decode()
    for number, rid in enumerate(SUPPORT, start=1):
        assert f'id="turn-{number}"' in page
        assert rid in page
    answer = "item-fco_d5d810230c9e29d394ade9cb17e1c7ded6ba8a22c4b345da"
    call = "item-fc_e5d5dec480d1bc309371ff91b0bf4f87ffd19f5a5b2b7230"
    # the item templates show each call beside its answer from a later turn, and the
    # answer links back to its call
    assert f'<a href="#{answer}">turn 2, input item 1</a>' in page
    assert f'<a href="#{call}">function_call lookup_order</a> (turn 1, output item 2)' in page
    assert "lookup_order" in page
    assert 'id="trace-walk"' not in page


@pytest.mark.django_db
def test_the_response_page_links_to_its_trace(logged_in):
    store.load_demo()
    page = logged_in.get(f"/responses/{SUPPORT[1]}/").content.decode()
    assert f'href="/responses/{SUPPORT[1]}/trace/"' in page


def chain_upstream(upstream, count):
    """`count` responses linked by previous_response_id; each answers the call before."""
    previous = None
    for n in range(count):
        rid = f"resp_w{n}"
        call = {**CALL, "id": f"fc_{n}", "call_id": f"call_{n}"}
        answer = {**ANSWER, "id": f"fco_{n}", "call_id": f"call_{n - 1}"}
        upstream.add(response(rid, [call], previous=previous), [answer] if n else [USER])
        previous = rid


@pytest.mark.django_db
def test_each_step_fetches_one_missing_turn_until_the_chain_is_whole(logged_in, upstream):
    chain_upstream(upstream, 3)
    store.fetch_response("resp_w2")
    page = logged_in.get("/responses/resp_w2/trace/").content.decode()
    assert "Fetched 1 of ≥2 turns" in page
    assert 'hx-trigger="load, submit"' in page
    step = logged_in.post("/responses/resp_w2/trace/step/", headers={"HX-Request": "true"})
    assert "Fetched 2 of ≥3 turns" in step.content.decode()
    assert 'hx-trigger="load, submit"' in step.content.decode()
    done = logged_in.post("/responses/resp_w2/trace/step/", headers={"HX-Request": "true"})
    assert done["HX-Redirect"] == "/responses/resp_w2/trace/"
    assert [s.id for s in store.chain_ending_at("resp_w2").responses] == [
        "resp_w0",
        "resp_w1",
        "resp_w2",
    ]


@pytest.mark.django_db
def test_a_failed_step_shows_what_was_reached_and_offers_to_resume(logged_in, upstream):
    chain_upstream(upstream, 3)
    store.fetch_response("resp_w2")
    upstream.override = lambda request: (
        httpx.Response(500, json={"error": {"message": "boom"}})
        if "resp_w1" in request.url.path
        else None
    )
    step = logged_in.post("/responses/resp_w2/trace/step/", headers={"HX-Request": "true"})
    text = step.content.decode()
    assert step.status_code == 200
    assert "Fetched 1 of ≥2 turns" in text
    assert "Could not fetch <code>resp_w1</code>" in text
    assert "Resume the walk" in text
    assert "hx-trigger" not in text
    assert "/responses/resp_w2/trace/?walk=paused" in text
    paused = logged_in.get("/responses/resp_w2/trace/?walk=paused").content.decode()
    assert 'id="turn-1"' in paused
    assert "hx-trigger" not in paused
    upstream.override = None
    logged_in.post("/responses/resp_w2/trace/step/", headers={"HX-Request": "true"})
    logged_in.post("/responses/resp_w2/trace/step/", headers={"HX-Request": "true"})
    assert store.chain_ending_at("resp_w2").missing == ""


@pytest.mark.django_db
def test_without_javascript_a_step_redirects_back_to_the_trace(logged_in, upstream):
    chain_upstream(upstream, 2)
    step = logged_in.post("/responses/resp_w1/trace/step/")
    assert step.status_code == 302
    assert step["Location"] == "/responses/resp_w1/trace/"


@pytest.mark.django_db
def test_without_javascript_a_failed_step_shows_the_page_with_the_error(logged_in, upstream):
    step = logged_in.post("/responses/resp_absent/trace/step/")
    assert step.status_code == 404
    assert "Could not fetch <code>resp_absent</code>" in step.content.decode()


@pytest.mark.django_db
def test_the_trace_step_only_accepts_post(logged_in):
    assert logged_in.get("/responses/resp_w1/trace/step/").status_code == 405


# --- the trace page: the first turns in full, the later ones when scrolled to ------------

TURNS = rendering.TRACE_FULL_TURNS + 4


@pytest.fixture
def long_chain(db):  # type: ignore[no-untyped-def]
    turns = data.chain("lazy", TURNS)
    for body, items in turns:
        store.save_bundle(body, items, source="import")
    return turns


def test_a_long_trace_shows_its_first_turns_in_full_and_loads_the_others_when_scrolled_to(
    logged_in, long_chain
):
    end = long_chain[-1][0]["id"]
    html = logged_in.get(f"/responses/{end}/trace/").content.decode()
    assert html.count('class="card turn"') == TURNS
    first_late = rendering.TRACE_FULL_TURNS + 1
    for number in range(1, TURNS + 1):
        late = number >= first_late
        link = (
            f'<a href="?turns=all#turn-{number}" '
            f'hx-get="/responses/{end}/trace/turns/{number}/" hx-trigger="revealed"'
        )
        assert (link in html) == late
        call_id = long_chain[number - 1][0]["output"][-1]["id"]
        assert (f'id="item-{call_id}"' in html) == (not late)
    # The audit table links to a call in a later turn through the page that shows them all.
    late_call = long_chain[first_late - 1][0]["output"][-1]["id"]
    assert f'href="?turns=all#item-{late_call}"' in html


def test_every_turn_is_on_the_page_with_turns_all(logged_in, long_chain):
    end = long_chain[-1][0]["id"]
    html = logged_in.get(f"/responses/{end}/trace/?turns=all").content.decode()
    assert 'hx-trigger="revealed"' not in html
    for body, _ in long_chain:
        assert f'id="item-{body["output"][-1]["id"]}"' in html


def test_a_later_turn_comes_as_its_items_for_htmx_and_as_the_whole_page_without(
    logged_in, long_chain
):
    end = long_chain[-1][0]["id"]
    number = TURNS - 1
    url = f"/responses/{end}/trace/turns/{number}/"
    part = logged_in.get(url, headers={"HX-Request": "true"})
    call_id = long_chain[number - 1][0]["output"][-1]["id"]
    assert part.status_code == 200
    assert f'id="item-{call_id}"' in part.content.decode()
    assert "<html" not in part.content.decode()
    plain = logged_in.get(url)
    assert plain.status_code == 302
    assert plain["Location"] == f"/responses/{end}/trace/?turns=all#turn-{number}"
    assert logged_in.get(f"/responses/{end}/trace/turns/{TURNS + 1}/").status_code == 404
