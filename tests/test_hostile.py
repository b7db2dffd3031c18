"""The hostile corpus (tests/hostile.py) on every page that shows stored data: whatever a
response holds comes out as escaped text, never as markup, script, a style or a hostile URL.

`problems` reads a page with an HTML parser and lists what could run or restyle it: script
that is not one of ours, event-handler and style attributes, embedding elements, and URL
attributes with a scheme other than http(s) / mailto (data:image/ only as an <img> source).
"""

import io
import itertools
import json
from html.parser import HTMLParser
from typing import Any

import httpx
import pytest
from markdown_it import MarkdownIt

from inspector import notes, redaction, scrub, store
from inspector.models import Note, StoredResponse
from inspector.schemas import ITEM_TYPES, Response, item_adapter
from inspector.schemas.base import Unknown
from tests import hostile

pytestmark = pytest.mark.django_db

CORPUS = hostile.corpus()
BY_ID = {b["response"]["id"]: b for b in CORPUS}
ESCAPED_SCRIPT = "&lt;script&gt;window.__pwned=1&lt;/script&gt;"

URL_ATTRIBUTES = {
    "href", "src", "action", "formaction", "srcdoc", "data", "poster", "background",
    "xlink:href", "srcset", "ping", "cite", "manifest", "codebase", "lowsrc", "dynsrc",
}  # fmt: skip
EMBEDDING = {"iframe", "frame", "frameset", "object", "embed", "applet", "base", "style"}


def bad_url(tag: str, attribute: str, value: str) -> bool:
    squeezed = "".join(ch for ch in value if ch > " ").lower()
    head = squeezed.split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]
    if ":" not in head:
        return attribute == "srcdoc"  # relative URLs; srcdoc is HTML, never ours
    scheme = head.split(":", 1)[0]
    if scheme in ("http", "https", "mailto"):
        return False
    return not (tag == "img" and attribute == "src" and squeezed.startswith("data:image/"))


class Audit(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self.in_script = self.in_data = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        for name, value in attrs:
            handler = name.startswith("on") or name == "style"
            if handler or (name in URL_ATTRIBUTES and value and bad_url(tag, name, value)):
                self.problems.append(f"<{tag} {name}={value!r:.80}>")
        if tag in EMBEDDING:
            self.problems.append(f"<{tag}>")
        if tag == "meta" and "http-equiv" in found:
            self.problems.append("<meta http-equiv>")
        if tag == "link" and not str(found.get("href", "")).startswith("/static/"):
            self.problems.append(f"<link href={found.get('href')!r:.80}>")
        if tag == "script":
            # A chart's numbers are a JSON data block (json_script), never run: fine if
            # nothing in it can close it early (json_script escapes <, > and &).
            self.in_data = found.get("type") == "application/json" and "src" not in found
            if not self.in_data and not str(found.get("src") or "").startswith("/static/"):
                self.problems.append(f"<script src={found.get('src')!r:.80}>")
            self.in_script = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self.in_script = self.in_data = False

    def handle_data(self, data: str) -> None:
        if self.in_script and self.in_data:
            if "<" in data or ">" in data:
                self.problems.append(f"data block with markup {data.strip()!r:.80}")
        elif self.in_script and data.strip():
            self.problems.append(f"inline script {data.strip()!r:.80}")


def problems(html: str) -> list[str]:
    audit = Audit()
    audit.feed(html)
    audit.close()
    found = audit.problems
    if "<script>window.__pwned" in html or "<img src=x onerror" in html:
        found.append("a payload is in the page unescaped")
    return found


def page(client: Any, url: str, status: int = 200) -> str:
    answer = client.get(url)
    assert answer.status_code == status, url
    html = answer.content.decode()
    assert problems(html) == [], url
    assert "{% debug %}" not in html or "sql_queries" not in html
    return html


def keep(*bundles: dict[str, Any]) -> None:
    report = store.import_lines(io.BytesIO(hostile.jsonl(list(bundles))))
    assert report.failed == 0, report.failures


def chain_of(response_id: str) -> list[dict[str, Any]]:
    """The bundle and its stored ancestors, oldest first."""
    found = []
    while response_id in BY_ID:
        found.insert(0, BY_ID[response_id])
        response_id = BY_ID[response_id]["response"].get("previous_response_id") or ""
    return found


# --- the audit itself can fail ------------------------------------------------------------


@pytest.mark.parametrize(
    "html",
    [
        "<script>alert(1)</script>",
        '<script src="https://evil.invalid/x.js"></script>',
        '<img src=x onerror="alert(1)">',
        '<a href=" JaVa\tScript:alert(1)">x</a>',
        '<img src="data:text/html,<script>alert(1)</script>">',
        '<a href="data:image/png;base64,AAAA">x</a>',
        '<iframe src="https://example.com"></iframe>',
        '<div style="color:red">x</div>',
        "<style>*{}</style>",
        '<meta http-equiv="refresh" content="0">',
        '<form action="javascript:alert(1)"></form>',
        '<link rel="stylesheet" href="data:text/css,x">',
    ],
)
def test_the_audit_finds_each_kind_of_hole(html):
    assert problems(f"<p>{html}</p>") != []


@pytest.mark.parametrize(
    "html",
    [
        '<a href="/responses/x/">x</a> <a href="https://example.com/?q=&lt;script&gt;">y</a>',
        '<img src="data:image/png;base64,AAAA" alt=""> <a href="mailto:a@example.com">m</a>',
        '<script src="/static/inspector.js"></script> <p>&lt;script&gt;window.__pwned=1</p>',
        '<p title="&quot;&gt;&lt;svg onload=x&gt;">t</p>',
    ],
)
def test_the_audit_passes_what_is_safe(html):
    assert problems(html) == []


# --- the corpus ---------------------------------------------------------------------------


def test_the_corpus_keeps_every_item_type_typed_so_each_template_sees_hostile_fields():
    seen: set[str] = set()
    for bundle in CORPUS[:-2]:
        response = Response.from_wire(bundle["response"])
        items = [item_adapter.validate_python(raw) for raw in bundle["input_items"]]
        for item in [*response.output, *items]:
            assert not isinstance(item, Unknown), getattr(item, "type", item)
            seen.add(item.type)
    assert seen >= set(ITEM_TYPES) - {"item_reference"} or seen == set(ITEM_TYPES)


def test_the_corpus_imports_whole_with_nothing_refused():
    report = store.import_lines(io.BytesIO(hostile.jsonl(CORPUS)))
    assert (report.imported, report.failed) == (len(CORPUS), 0), report.failures
    huge = StoredResponse.objects.get(pk="resp_hostile_huge")
    assert len(huge.body["tools"][0]["name"]) == 1_000_000 + len(hostile.SHORT)


# --- every page of every hostile response ------------------------------------------------


@pytest.mark.parametrize("response_id", list(BY_ID))
def test_every_page_of_a_hostile_response_shows_its_payloads_as_text(logged_in, response_id):
    keep(*chain_of(response_id))
    stored = StoredResponse.objects.get(pk=response_id)
    notes.add_note(stored, "", hostile.TEXT, logged_in_user(logged_in))
    html = page(logged_in, f"/responses/{response_id}/")
    assert ESCAPED_SCRIPT in html
    assert "{{ request.user.password }}" in html
    page(logged_in, f"/responses/{response_id}/trace/")
    page(logged_in, f"/responses/{response_id}/trace/?turns=all")  # every turn in full
    if isinstance(stored.body.get("instructions"), str):
        page(logged_in, f"/responses/{response_id}/instructions/")
    page(logged_in, f"/playground/?from={response_id}")
    page(logged_in, f"/responses/{response_id}/items/?page=1")
    for position in range(len(stored.body["output"])):
        page(logged_in, f"/responses/{response_id}/items/output/{position}/")
    for position in range(stored.input_items_count):
        page(logged_in, f"/responses/{response_id}/items/input/{position}/")


def logged_in_user(client: Any) -> Any:
    from django.contrib.auth import get_user_model

    return get_user_model().objects.get(pk=client.session["_auth_user_id"])


@pytest.mark.parametrize("response_id", list(BY_ID))
def test_the_json_exports_give_back_the_hostile_bodies_exactly_as_served_json(
    logged_in, response_id
):
    keep(*chain_of(response_id))
    for url in (f"/responses/{response_id}.json", f"/responses/{response_id}/trace.json"):
        answer = logged_in.get(url)
        assert answer["Content-Type"] == "application/json"
        assert answer["X-Content-Type-Options"] == "nosniff"
    bundle = json.loads(logged_in.get(f"/responses/{response_id}.json").content)
    original = BY_ID[response_id]
    # As kept (scrub.py), then redacted as every export is by default (redaction.py).
    assert bundle["response"] == redaction.redact(scrub.scrub(original["response"])[0])[0]
    assert bundle["input_items"] == redaction.redact(scrub.scrub(original["input_items"])[0])[0]


@pytest.mark.parametrize("response_id", list(BY_ID))
def test_the_markdown_exports_keep_every_payload_inside_code(logged_in, response_id):
    keep(*chain_of(response_id))
    stored = StoredResponse.objects.get(pk=response_id)
    notes.add_note(stored, "", hostile.TEXT + hostile.MARKDOWN, logged_in_user(logged_in))
    renderer = MarkdownIt("commonmark")  # raw HTML on, as a Markdown viewer might have it
    for url in (f"/responses/{response_id}.md", f"/responses/{response_id}/trace.md"):
        answer = logged_in.get(url)
        assert answer["Content-Type"] == "text/markdown; charset=utf-8"
        assert answer["X-Content-Type-Options"] == "nosniff"
        assert problems(renderer.render(answer.content.decode())) == [], url


def test_the_list_tool_calls_and_compare_pages_escape_the_whole_corpus(logged_in):
    keep(*CORPUS)
    ids = list(BY_ID)
    html = page(logged_in, "/")
    assert ESCAPED_SCRIPT in html or "&lt;svg onload=window.__pwned=1&gt;" in html
    for query in (
        "q=%3Cscript%3Ewindow.__pwned%3D1%3C%2Fscript%3E",
        f"model={hostile.SHORT}",
        "tool=%22%3E%3Csvg%20onload%3Dwindow.__pwned%3D1%3E",
        "meta_key=%3Cscript%3E&meta_value=%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E",
        "sort=%3Cscript%3E&page=%3Cscript%3E",
    ):
        page(logged_in, f"/?{query}")
    page(logged_in, "/tool-calls/")
    page(logged_in, "/tool-calls/?name=%3Cscript%3Ewindow.__pwned%3D1%3C%2Fscript%3E&flag=x")
    for name in StoredResponse.objects.values_list("tool_names", flat=True)[:5]:
        first = next((n for n in name.split("\n") if n), "")
        page(logged_in, "/tool-calls/?" + _query({"name": first}))
    for left, right in itertools.pairwise(ids):
        page(logged_in, f"/responses/{left}/compare/{right}/")
    page(logged_in, f"/compare/?r={ids[0]}&r=%3Cscript%3E", status=400)


def _query(params: dict[str, str]) -> str:
    from urllib.parse import urlencode

    return urlencode(params)


def test_a_hostile_lookup_is_refused_with_its_text_escaped(logged_in):
    html = page(logged_in, "/lookup/?q=%3Cscript%3Ewindow.__pwned%3D1%3C%2Fscript%3E", 400)
    assert ESCAPED_SCRIPT in html


def test_the_events_page_shows_a_hostile_stream_as_text(logged_in, upstream):
    body = {**hostile.make_hostile(next(hostile.demo_bundles()))["response"], "background": True}
    body["id"] = "resp_hostile_events"
    upstream.add_stream(body, hostile.hostile_events(body))
    keep({"kind": "responses-inspector.bundle", "version": 1, "response": body})
    result = store.replay_events(StoredResponse.objects.get(pk=body["id"]))
    # An `error` may be followed by the response's final state: every event is kept.
    assert (result.kept, result.ended) == (len(hostile.hostile_events(body)), "terminal")
    html = page(logged_in, f"/responses/{body['id']}/events/")
    assert ESCAPED_SCRIPT in html
    answer = logged_in.get(f"/responses/{body['id']}/events.json")
    assert answer["Content-Type"] == "application/json"


def test_the_playground_counts_hostile_json_typed_into_it(logged_in):
    items = json.dumps(
        [{"type": "message", "role": "user", "content": hostile.TEXT + "\\ud800\\u0000"}]
    ).replace("\\\\u", "\\u")
    form = {"model": "gpt-5<script>", "input_kind": "items", "input_items": items,
            "instructions": hostile.TEXT, "tools": json.dumps([{"type": "function",
            "name": hostile.SHORT, "parameters": hostile.nested(200)}])}  # fmt: skip
    answer = logged_in.post("/playground/count/", form)
    assert answer.status_code in (200, 400)
    assert problems(answer.content.decode()) == []


# --- NUL and lone surrogates: kept alike on SQLite and PostgreSQL (scrub.py) --------------


def test_nul_and_lone_surrogates_are_replaced_and_the_originals_kept_in_a_note(logged_in):
    keep(hostile.broken_text_bundle())
    stored = StoredResponse.objects.get(pk="resp_hostile_broken_text")
    assert stored.body["instructions"] == scrub.clean(hostile.BROKEN)
    assert "\ufffd" in stored.body["output"][1]["content"][0]["text"]
    assert stored.items.get(position=0).body["content"] == scrub.clean(hostile.BROKEN)
    body_note, items_note = Note.objects.filter(
        response=stored, author_name=store.SCRUB_NOTE_AUTHOR
    ).order_by("id")
    assert body_note.text.startswith(
        "Stored with 6 NUL characters (\\u0000) and 12 lone surrogates (\\ud800-\\udfff)"
    )
    assert f"instructions: {json.dumps(hostile.BROKEN)}" in body_note.text
    assert items_note.text.startswith("Stored with 1 NUL character (\\u0000) and 2 lone")
    assert f"input_items[0].content: {json.dumps(hostile.BROKEN)}" in items_note.text
    html = page(logged_in, "/responses/resp_hostile_broken_text/")
    assert "before\ufffdafter" in html
    page(logged_in, "/responses/resp_hostile_broken_text/trace/")
    page(logged_in, "/tool-calls/")
    page(logged_in, "/")
    assert logged_in.get("/responses/resp_hostile_broken_text.md").status_code == 200


def test_importing_the_same_broken_text_again_is_skipped_and_adds_no_second_note():
    keep(hostile.broken_text_bundle())
    report = store.import_lines(io.BytesIO(hostile.jsonl([hostile.broken_text_bundle()])))
    assert (report.skipped, report.failed) == (1, 0)
    assert Note.objects.filter(author_name=store.SCRUB_NOTE_AUTHOR).count() == 2


def test_a_fetched_response_with_nul_and_lone_surrogates_is_kept_the_same_way(upstream):
    bundle = hostile.broken_text_bundle(response_id="resp_fetched_broken")

    def serve(request: httpx.Request) -> httpx.Response:
        # As a server sends them: JSON escapes (httpx would encode lone surrogates raw).
        items = bundle["input_items"]
        page = {"object": "list", "data": items, "first_id": items[0]["id"],
                "last_id": items[-1]["id"], "has_more": False}  # fmt: skip
        data = page if request.url.path.endswith("/input_items") else bundle["response"]
        return httpx.Response(200, content=json.dumps(data).encode())

    upstream.override = serve
    stored = store.fetch_response("resp_fetched_broken")
    assert stored.body["instructions"] == scrub.clean(hostile.BROKEN)
    assert stored.input_items_count == 2
    assert Note.objects.filter(response=stored, author_name=store.SCRUB_NOTE_AUTHOR).count() == 2


def test_invalid_utf8_bytes_fail_only_their_own_line_with_a_reason():
    good = hostile.jsonl([hostile.huge_bundle()])
    report = store.import_lines(io.BytesIO(b'{"id": "resp_bad\xff\xfe"}\n' + good))
    assert report.imported == 1
    assert report.failures == [(1, "not UTF-8 text")]


@pytest.mark.parametrize(
    ("value", "cleaned", "nul", "surrogates", "paths"),
    [
        ("plain", "plain", 0, 0, []),
        ("a\x00b", "a\ufffdb", 1, 0, ["(top level)"]),
        ("\U0001f600 pair", "\U0001f600 pair", 0, 0, []),
        ("\ud83d\ude00", "\ufffd\ufffd", 0, 2, ["(top level)"]),
        ("\ud83d", "\ufffd", 0, 1, ["(top level)"]),
        ({"k\x00": ["ok", "\udfff"]}, {"k\ufffd": ["ok", "\ufffd"]}, 1, 1, ["(key)", "k\ufffd[1]"]),
        ([1, None, True, 2.5], [1, None, True, 2.5], 0, 0, []),
    ],
)
def test_scrub_replaces_nul_and_lone_surrogates_and_says_where(
    value, cleaned, nul, surrogates, paths
):
    result, found = scrub.scrub(value)
    assert result == cleaned
    assert (found.nul, found.surrogates) == (nul, surrogates)
    assert [path for path, _ in found.places] == paths


def test_scrub_loads_cleans_json_held_inside_a_string():
    assert scrub.loads('{"a": "\\u0000\\ud800"}') == {"a": "\ufffd\ufffd"}
