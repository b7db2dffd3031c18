"""/runs/: chains and conversations recognised as runs whatever order their responses arrive
in, summed up, filtered, sorted, and kept up to date on review and delete."""

import itertools
import json
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from inspector import notes, pricing, store
from inspector.models import Run, StoredResponse
from inspector.store import runs
from tests.factories import response_body

pytestmark = pytest.mark.django_db

DEMO = Path(__file__).resolve().parent.parent / "inspector" / "demo"
T0 = 1_767_225_600  # 2026-01-01T00:00:00Z


@pytest.fixture(autouse=True)
def test_prices(monkeypatch: pytest.MonkeyPatch) -> None:
    """A dollar per thousand tokens on every model but "unpriced-model"."""

    def price(model: str, *, input_tokens: int, output_tokens: int = 0, **_: Any) -> Any:
        if model == "unpriced-model":
            return None
        return SimpleNamespace(total=Decimal(input_tokens + output_tokens) / 1000)

    monkeypatch.setattr(pricing, "price", price)
    monkeypatch.setattr(
        pricing, "total", lambda model, **kw: getattr(price(model, **kw), "total", None)
    )


def usage(inp: int, out: int, cached: int = 0, reasoning: int = 0) -> dict[str, Any]:
    return {
        "input_tokens": inp,
        "input_tokens_details": {"cached_tokens": cached},
        "output_tokens": out,
        "output_tokens_details": {"reasoning_tokens": reasoning},
        "total_tokens": inp + out,
    }


def turn(rid: str, previous: str | None = None, n: int = 0, **fields: Any) -> dict[str, Any]:
    return response_body(
        rid,
        created_at=T0 + 60 * n,
        completed_at=T0 + 60 * n + 5,
        previous_response_id=previous,
        usage=usage(100 * (n + 1), 10, cached=50 * n),
        **fields,
    )


def user(text: str) -> dict[str, Any]:
    return {"id": f"msg_{abs(hash(text))}", "type": "message", "role": "user", "content": text}


CHAIN = [
    (turn("resp_one", None, 0), [user("Where is my order A-1?")]),
    (turn("resp_two", "resp_one", 1), [user("And the refund?")]),
    (turn("resp_three", "resp_two", 2), [user("Thanks")]),
]


def keep(index: int) -> None:
    body, items = CHAIN[index]
    store.save_bundle(body, items, source="import")


def the_runs() -> list[Run]:
    return list(Run.objects.order_by("key"))


@pytest.mark.parametrize("order", list(itertools.permutations(range(3))))
def test_a_chain_stored_in_any_order_ends_as_one_run_of_three_turns(order):
    for index in order:
        keep(index)
    (run,) = the_runs()
    assert run.key == "chain:resp_one"
    assert (run.turns, run.first_id, run.last_id) == (3, "resp_one", "resp_three")
    assert run.missing_id == ""
    assert run.first_input == "Where is my order A-1?"
    assert run.input_tokens == 100 + 200 + 300
    assert run.cached_tokens == 0 + 50 + 100
    assert run.cost == Decimal(630) / 1000
    assert run.duration.total_seconds() == 125
    assert set(StoredResponse.objects.values_list("run_key", flat=True)) == {"chain:resp_one"}


def test_a_chain_whose_first_turn_is_missing_is_one_run_that_says_so(logged_in):
    keep(2)
    keep(1)
    (run,) = the_runs()
    assert (run.key, run.turns, run.missing_id) == ("chain:resp_one", 2, "resp_one")
    assert run.unfetched
    page = logged_in.get("/runs/").content.decode()
    assert "partly unfetched" in page
    assert "earlier turns from <code>resp_one</code> not stored" in page


def test_the_last_turn_alone_is_a_run_waiting_for_its_earlier_turns():
    keep(2)
    keep(0)
    assert [(r.key, r.turns, r.missing_id) for r in the_runs()] == [
        ("chain:resp_one", 1, ""),
        ("chain:resp_two", 1, "resp_two"),
    ]
    keep(1)
    assert [(r.key, r.turns) for r in the_runs()] == [("chain:resp_one", 3)]


def test_a_file_with_the_chain_out_of_order_is_one_run_as_if_kept_one_by_one():
    lines = [json.dumps({"kind": "responses-inspector.bundle", "version": 1,
                         "response": CHAIN[i][0], "input_items": CHAIN[i][1]})
             for i in (2, 0, 1)]  # fmt: skip
    report = store.import_lines(lines)
    assert report.imported == 3
    (run,) = the_runs()
    assert (run.turns, run.first_id, run.last_id, run.first_input) == (
        3, "resp_one", "resp_three", "Where is my order A-1?",
    )  # fmt: skip


def test_turns_of_a_conversation_are_one_run_in_the_order_they_were_created():
    conversation = {"id": "conv_trip"}
    for n, rid in ((2, "resp_c3"), (0, "resp_c1"), (1, "resp_c2")):
        body = turn(rid, None, n, conversation=conversation)
        store.save_bundle(body, [user(f"question {n}")], source="import")
    (run,) = the_runs()
    assert (run.key, run.kind, run.turns) == ("conversation:conv_trip", "conversation", 3)
    assert (run.first_id, run.last_id, run.first_input) == ("resp_c1", "resp_c3", "question 0")


def test_a_retried_turn_makes_a_run_with_two_branches():
    keep(0)
    keep(1)
    store.save_bundle(turn("resp_retry", "resp_one", 3), [], source="import")
    (run,) = the_runs()
    assert (run.turns, run.branches, run.last_id) == (3, 2, "resp_retry")


def test_deleting_a_middle_turn_splits_the_run_and_the_last_turn_waits_for_it():
    for index in range(3):
        keep(index)
    store.delete_response(StoredResponse.objects.get(pk="resp_two"))
    assert [(r.key, r.turns, r.missing_id) for r in the_runs()] == [
        ("chain:resp_one", 1, ""),
        ("chain:resp_two", 1, "resp_two"),
    ]
    store.delete_response(StoredResponse.objects.get(pk="resp_one"))
    store.delete_response(StoredResponse.objects.get(pk="resp_three"))
    assert the_runs() == []


def test_responses_deleted_through_the_orm_take_their_runs_along():
    for index in range(3):
        keep(index)
    StoredResponse.objects.filter(pk="resp_one").delete()
    assert [(r.key, r.turns, r.missing_id) for r in the_runs()] == [
        ("chain:resp_one", 2, "resp_one")
    ]
    StoredResponse.objects.all().delete()
    assert the_runs() == []


def test_a_loop_of_links_is_one_run_not_an_endless_walk():
    store.save_bundle(turn("resp_a", "resp_b", 0), [], source="import")
    store.save_bundle(turn("resp_b", "resp_a", 1), [], source="import")
    (run,) = the_runs()
    assert (run.key, run.turns, run.missing_id) == ("chain:resp_a", 2, "")


def test_the_run_review_follows_its_turns_reviews(user):
    for index in range(2):
        keep(index)
    (run,) = the_runs()
    assert run.review == "unreviewed"
    notes.set_review(StoredResponse.objects.get(pk="resp_one"), "approved", user)
    assert the_runs()[0].review == "partly"
    notes.set_review(StoredResponse.objects.get(pk="resp_two"), "approved", user)
    assert the_runs()[0].review == "approved"
    notes.set_review(StoredResponse.objects.get(pk="resp_one"), "flagged", user)
    assert the_runs()[0].review == "flagged"


def test_problems_count_failed_calls_errors_and_unanswered_calls():
    failed_call = {"id": "mcp_1", "type": "mcp_call", "name": "list", "server_label": "crm",
                   "arguments": "{}", "error": "boom", "status": "failed"}  # fmt: skip
    open_call = {"id": "fc_1", "type": "function_call", "call_id": "call_1", "name": "f",
                 "arguments": "{}"}  # fmt: skip
    store.save_bundle(turn("resp_p1", None, 0, output=[failed_call]), [user("go")],
                      source="import")  # fmt: skip
    store.save_bundle(
        turn("resp_p2", "resp_p1", 1, output=[open_call], status="failed",
             error={"code": "server_error", "message": "x"}),
        [], source="import",
    )  # fmt: skip
    (run,) = the_runs()
    assert (run.failed_calls, run.errors, run.unanswered, run.problems) == (1, 1, 1, 3)
    assert run.last_status == "failed"


def test_a_turn_with_no_known_price_makes_the_cost_a_lower_bound():
    keep(0)
    store.save_bundle(turn("resp_x", "resp_one", 1, model="unpriced-model"), [], source="import")
    (run,) = the_runs()
    assert run.cost == Decimal(110) / 1000
    assert run.cost_partial
    assert run.model_list == ["gpt-5", "unpriced-model"]


def test_rebuilding_every_run_gives_the_same_rows():
    for index in (2, 0, 1):
        keep(index)
    store.save_bundle(turn("resp_alone", None, 5), [user("hello")], source="import")
    fields = [f.name for f in Run._meta.concrete_fields]
    before = list(Run.objects.order_by("key").values_list(*fields))
    Run.objects.all().delete()
    Run.objects.create(key="chain:resp_gone", kind="chain", first_id="x", last_id="x")
    StoredResponse.objects.update(run_key="")
    assert runs.rebuild_runs() == 2
    assert list(Run.objects.order_by("key").values_list(*fields)) == before


def test_the_demo_has_its_chains_as_runs():
    store.load_demo()
    by_turns = {run.turns: run for run in Run.objects.all()}
    assert by_turns[10].first_input.startswith("In the expense portal")
    assert by_turns[3].first_input.startswith("Hi! Where is my order A-10442?")
    assert Run.objects.count() == StoredResponse.objects.values("run_key").distinct().count()


# --- the page ------------------------------------------------------------------------------


def test_the_runs_page_shows_a_run_a_row_and_each_row_opens_the_trace(logged_in):
    for index in range(3):
        keep(index)
    store.save_bundle(turn("resp_alone", None, 9), [user("Something else")], source="import")
    page = logged_in.get("/runs/")
    text = page.content.decode()
    assert page.status_code == 200
    assert page.context["page"].paginator.count == 2
    assert 'href="/responses/resp_three/trace/">Where is my order A-1?</a>' in text
    assert 'href="/responses/resp_alone/trace/">Something else</a>' in text
    assert "$0.630" in text  # the run's cost (test prices)
    assert "(25 %)" in text  # cached share: 150 of 600


def test_runs_are_filtered_and_sorted_like_the_list(logged_in):
    for index in range(3):
        keep(index)
    store.save_bundle(
        turn("resp_mini", None, 9, model="gpt-5-mini", metadata={"team": "ops"}),
        [user("Ops question")],
        source="import",
    )

    def keys(query: str) -> list[str]:
        return [run.key for run in logged_in.get(f"/runs/?{query}").context["page"]]

    assert keys("") == ["chain:resp_mini", "chain:resp_one"]  # newest first
    assert keys("sort=-turns") == ["chain:resp_one", "chain:resp_mini"]
    assert keys("sort=cost") == ["chain:resp_one", "chain:resp_mini"]  # $0.630, $1.01
    assert keys("sort=-cost") == ["chain:resp_mini", "chain:resp_one"]
    assert keys("model=gpt-5-mini") == ["chain:resp_mini"]
    assert keys("turns=several") == ["chain:resp_one"]
    assert keys("meta_key=team&meta_value=ops") == ["chain:resp_mini"]
    assert keys("q=refund") == ["chain:resp_one"]  # a later turn's words find the run
    assert keys("problems=true") == []
    assert keys("created_from=2026-01-02") == []
    assert keys("meta_key=bad key") == ["chain:resp_mini", "chain:resp_one"]  # shows its error


def test_the_runs_page_reads_the_same_number_of_queries_however_many_runs(
    logged_in, django_assert_max_num_queries
):
    for index in range(3):
        keep(index)
    with django_assert_max_num_queries(12) as few:
        logged_in.get("/runs/")
    for n in range(20):
        store.save_bundle(turn(f"resp_more{n}", None, n), [user(f"q{n}")], source="import")
    with django_assert_max_num_queries(len(few.captured_queries)):
        logged_in.get("/runs/")
