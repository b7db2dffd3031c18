"""Imports keep new bundles in bulk (store.imports.Batch): the store ends up exactly as when each
bundle is kept alone with save_bundle, tool-call index included, in any order."""

import json
import random

import pytest
from django.db import DatabaseError, connection
from django.test.utils import CaptureQueriesContext

from bench import data
from inspector import store
from inspector.models import InputItem, Note, StoredResponse, ToolCall
from inspector.store import fetch, imports

pytestmark = pytest.mark.django_db

DEMO = sorted(store.DEMO_DIR.glob("*.json"))


def demo_lines() -> list[str]:
    return [json.dumps(json.loads(path.read_text())) for path in DEMO]


def chain_lines(prefix: str, turns: int) -> list[str]:
    return [json.dumps(data.bundle(body, items)) for body, items in data.chain(prefix, turns)]


def annotated(line: str) -> str:
    """The bundle with a note on the response and one on an item, and a review."""
    bundle = json.loads(line)
    item = bundle["response"]["output"][0]["id"]
    bundle["notes"] = [
        {"anchor": "", "author": "ann", "text": "look", "created_at": "2026-01-02T03:04:05Z"},
        {"anchor": f"item-{item}", "author": "bo", "text": "here", "created_at": "2026-01-03"},
    ]
    bundle["review"] = {"status": "flagged", "by": "ann", "at": "2026-01-02T03:04:05Z"}
    return json.dumps(bundle)


def snapshot() -> dict[str, list]:
    """Everything an import writes, but the fetch time and token of each response."""
    responses = StoredResponse.objects.order_by("id").values()
    calls = ToolCall.objects.order_by("response_id", "where", "position").values()
    return {
        "responses": [
            {k: v for k, v in row.items() if k not in ("fetched_at", "fetch_token")}
            for row in responses
        ],
        "items": list(
            InputItem.objects.order_by("response_id", "position").values_list(
                "response_id", "position", "item_id", "type", "body"
            )
        ),
        "calls": [{k: v for k, v in row.items() if k != "id"} for row in calls],
        "notes": list(
            Note.objects.order_by("response_id", "anchor", "text").values_list(
                "response_id", "anchor", "author_name", "text"
            )
        ),
    }


def one_by_one(monkeypatch: pytest.MonkeyPatch, lines: list[str]) -> store.ImportReport:
    """The import as it was: every bundle kept alone by save_bundle."""
    with monkeypatch.context() as patched:

        def flush(batch: imports.Batch) -> None:
            bundles, batch.bundles, batch.items = batch.bundles, [], 0
            for bundle in bundles:
                batch.keep_one(bundle)

        patched.setattr(imports.Batch, "flush", flush)
        return store.import_lines(lines)


ORDERS = {
    "file order": lambda lines: lines,
    "answers before their calls": lambda lines: list(reversed(lines)),
}


@pytest.mark.parametrize("order", list(ORDERS))
def test_a_bulk_import_stores_exactly_what_one_bundle_at_a_time_stores(monkeypatch, order):
    chain = chain_lines("bulkeq", 12)
    chain[3] = annotated(chain[3])
    lines = ORDERS[order]([*demo_lines(), *chain])
    # Batches that cut through chains, and a bundle repeated in its batch.
    monkeypatch.setattr(imports, "IMPORT_BATCH", 7)
    lines.insert(5, lines[2])
    alone = one_by_one(monkeypatch, lines)
    expected = snapshot()
    assert expected["calls"] and expected["notes"]
    StoredResponse.objects.all().delete()
    bulk = store.import_lines(lines)
    assert snapshot() == expected
    assert (bulk.summary(), bulk.failures) == (alone.summary(), alone.failures)


def test_a_bulk_import_over_a_stored_store_updates_and_skips_like_save_bundle(monkeypatch):
    lines = demo_lines()
    first = lines[::2]
    edited = json.loads(lines[0])
    edited["response"]["metadata"] = {"edited": "yes"}
    lines[0] = json.dumps(edited)
    store.import_lines(first)
    alone = one_by_one(monkeypatch, lines)
    expected = snapshot()
    StoredResponse.objects.all().delete()
    store.import_lines(first)
    bulk = store.import_lines(lines)
    assert snapshot() == expected
    assert bulk.summary() == alone.summary()
    assert (bulk.updated, bulk.skipped) == (1, len(first) - 1)


def test_a_bundle_the_database_refuses_fails_alone_and_the_rest_of_its_batch_is_kept(
    monkeypatch,
):
    real = store.columns

    def columns(response):  # type: ignore[no-untyped-def]
        if response.id == "resp_refused0001":
            raise DatabaseError("refused")
        return real(response)

    for module in (fetch, imports):  # the one-by-one path and the bulk one
        monkeypatch.setattr(module, "columns", columns)
    report = store.import_lines(chain_lines("refused", 4))
    assert report.imported == 3
    assert report.failures == [(2, "could not be stored: refused")]
    kept = StoredResponse.objects.order_by("id").values_list("id", flat=True)
    assert list(kept) == ["resp_refused0000", "resp_refused0002", "resp_refused0003"]


def test_unrelated_new_bundles_cost_a_few_queries_a_batch_not_several_each():
    pool = data.ProsePool(random.Random(1), size=50_000)
    counts = []
    for size in (10, 60):
        lines = [data.import_line(n, f"fixed{size}_", pool) for n in range(size)]
        with CaptureQueriesContext(connection) as captured:
            report = store.import_lines(lines)
        assert report.imported == size
        counts.append(len(captured.captured_queries))
    batches = -(-60 // store.IMPORT_BATCH)
    # A batch: the ids already stored, responses, items, their search rows and its index,
    # earlier turns, calls and their answers, the calls, the list's problems column, and
    # the savepoint around it all (twelve); and four that recognise the batch's runs and sum
    # them up (store/runs.py: neighbours, new keys, the runs' turns, the runs written).
    assert counts[0] <= 16
    assert counts[1] <= 16 * batches < 60


def test_a_chain_in_one_file_costs_a_few_queries_a_turn_not_fifteen():
    with CaptureQueriesContext(connection) as captured:
        report = store.import_lines(chain_lines("queries", 30))
    assert report.imported == 30
    assert len(captured.captured_queries) <= 5 * 30
