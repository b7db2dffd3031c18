"""The hostile corpus (tests/hostile.py) in a real browser: on the response, trace, compare,
list, tool-call, events and playground pages nothing runs: no dialog, `window.__pwned` stays
undefined, no CSP violation is reported, no console error."""

import io
from typing import Any

import pytest

from inspector import store
from inspector.models import StoredResponse
from tests import hostile

pytestmark = pytest.mark.django_db(transaction=True)

CORPUS = hostile.corpus()
IDS = [bundle["response"]["id"] for bundle in CORPUS]


@pytest.fixture
def corpus_stored() -> None:
    report = store.import_lines(io.BytesIO(hostile.jsonl(CORPUS)))
    assert report.failed == 0, report.failures


def open_everything(page: Any) -> None:
    """Open every <details> and flip every Markdown part to raw and back."""
    page.evaluate("document.querySelectorAll('details').forEach(d => { d.open = true; })")
    for toggle in page.locator("[data-md-toggle]").all()[:4]:
        toggle.click()
        toggle.click()


def assert_nothing_ran(watched: Any, path: str) -> None:
    watched.goto(path)
    open_everything(watched.page)
    watched.page.wait_for_timeout(100)
    assert watched.page.evaluate(f"typeof window.{hostile.MARKER}") == "undefined", path
    # Inline script none; the charts' JSON data blocks (json_script) are data, never run.
    assert watched.page.locator("script:not([src]):not([type='application/json'])").count() == 0, (
        path
    )
    watched.assert_clean()


def test_no_hostile_response_page_runs_anything(watched, corpus_stored):
    for response_id in IDS:
        assert_nothing_ran(watched, f"/responses/{response_id}/")


def test_the_trace_compare_list_and_tool_call_pages_run_nothing(watched, corpus_stored):
    chained = StoredResponse.objects.exclude(previous_response_id="").values_list("id", flat=True)
    for response_id in list(chained)[:6]:
        assert_nothing_ran(watched, f"/responses/{response_id}/trace/")
    for left, right in [(IDS[0], IDS[1]), (IDS[-2], IDS[-1]), (IDS[8], IDS[9])]:
        assert_nothing_ran(watched, f"/responses/{left}/compare/{right}/")
    assert_nothing_ran(watched, "/")
    assert_nothing_ran(watched, "/?q=%3Cscript%3Ewindow.__pwned%3D1%3C%2Fscript%3E")
    assert_nothing_ran(watched, "/tool-calls/")


def test_the_playground_from_a_hostile_response_runs_nothing(watched, corpus_stored):
    for response_id in (IDS[0], IDS[8], IDS[28], "resp_hostile_huge", IDS[-1]):
        assert_nothing_ran(watched, f"/playground/?from={response_id}")
        # The live count runs on load and on typing: the hostile state goes round trip.
        watched.page.locator("#playground-form textarea").first.press("End")
        watched.page.keyboard.type(" ")
        watched.page.wait_for_load_state("networkidle")
        assert watched.page.evaluate(f"typeof window.{hostile.MARKER}") == "undefined"
        watched.assert_clean()


def test_the_events_page_of_a_hostile_stream_runs_nothing(watched, upstream):
    body = {**hostile.make_hostile(next(hostile.demo_bundles()))["response"], "background": True}
    body["id"] = "resp_hostile_events"
    upstream.add_stream(body, hostile.hostile_events(body))
    store.save_bundle(body, [], source="import")
    store.replay_events(StoredResponse.objects.get(pk=body["id"]))
    assert_nothing_ran(watched, f"/responses/{body['id']}/events/")
