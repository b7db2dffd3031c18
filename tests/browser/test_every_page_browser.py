"""Every page in a real browser, light and dark, 420 px and 1400 px wide: no sideways scroll
on a narrow screen, no serious or critical axe-core finding (contrast included), no console
error, no CSP violation.

PAGES below is the one table of pages: a new page is one line there (and a route that is
not an HTML page a line in NOT_PAGES); test_every_route_is_a_page_here_or_said_not_to_be
fails until it is. Each page is loaded once; the themes and widths are switched on the
loaded page (the CSS follows prefers-color-scheme and the viewport at once), with every
<details> opened so that folded content is checked too. axe-core runs twice a page, light
at 1400 px and dark at 420 px: colours depend on the theme and layout on the width, so the
two runs see both themes and both widths (a run costs 0.4-2 s). The upstream key is unset:
the pages are seen as the demo is, offline.
"""

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from inspector import store
from inspector.models import PlaygroundSession
from tests.browser.conftest import WATCH

pytestmark = pytest.mark.django_db(transaction=True)

DEMO = Path(__file__).resolve().parent.parent.parent / "inspector" / "demo"
WIDTHS = (420, 1400)
THEMES = ("light", "dark")
#: Where axe-core runs: both themes, both widths.
AXE_AT = {("light", 1400), ("dark", 420)}
SERIOUS = ("serious", "critical")
AXE_SCRIPT = Axe().axe_script
#: Serious and critical violations, one line each: the rule and its first three nodes.
AXE_RUN = """axe.run(document, {resultTypes: ["violations"]}).then(results => results.violations
  .filter(v => v.impact === "serious" || v.impact === "critical")
  .map(v => `${v.id} (${v.impact}): ${v.nodes.slice(0, 3).map(n => n.target.join(" "))}`))"""


@dataclass(frozen=True)
class Page:
    """A page to visit. `path` may name demo responses by their file's number ({r01} is
    the response of inspector/demo/01_….json) and {session}, a saved playground session.
    `route` is the URL name it stands for (or what it is: "404", "login" …)."""

    route: str
    path: str
    status: int = 200
    who: str = "staff"  # "staff" (a superuser), "viewer" (the viewer role), "anonymous"


PAGES = [
    Page("inspector:index", "/"),
    Page("inspector:index", "/?status=failed&sort=-created"),
    Page("inspector:lookup", "/lookup/?q=not+an+id", 400),
    Page("inspector:response-detail", "/responses/{r01}/"),
    Page("inspector:response-detail", "/responses/{r06}/"),  # logprobs, structured output
    Page("inspector:response-detail", "/responses/{r07}/"),  # code interpreter, images
    Page("inspector:response-detail", "/responses/{r09}/"),  # MCP error and approval
    Page("inspector:response-detail", "/responses/{r24}/"),  # shell exit codes, timeout
    Page("inspector:response-detail", "/responses/{r25}/"),  # apply_patch
    Page("inspector:response-detail", "/responses/{r29}/"),  # hosted tools replayed
    Page("inspector:response-detail", "/responses/{r30}/"),  # incomplete
    Page("inspector:response-detail", "/responses/{r31}/"),  # failed
    Page("inspector:response-detail", "/responses/{r32}/"),  # background, in progress
    Page("inspector:response-detail", "/responses/{r34}/"),  # multilingual, right-to-left
    Page("inspector:response-detail", "/responses/{r35}/"),  # refusal, prompt template
    Page("inspector:response-detail", "/responses/{r38}/"),  # hostile HTML
    Page("inspector:response-detail", "/responses/{r42}/"),  # environments
    Page("inspector:response-detail", "/responses/resp_notstoredhere/", 503),  # no key
    Page("inspector:response-item", "/responses/{r07}/items/output/1/"),
    Page("inspector:response-instructions", "/responses/{r01}/instructions/"),
    Page("inspector:response-outline", "/responses/{r20}/outline/"),
    Page("inspector:response-search", "/responses/{r20}/search/?q=expense"),
    Page("inspector:response-delete", "/responses/{r01}/delete/"),
    Page("inspector:response-trace", "/responses/{r03}/trace/"),
    Page("inspector:response-trace", "/responses/{r20}/trace/?turns=all"),
    Page("inspector:response-trace-search", "/responses/{r20}/trace/search/?q=expense"),
    Page("inspector:response-events", "/responses/{r32}/events/"),
    Page("inspector:response-events", "/responses/{r01}/events/"),
    Page("inspector:response-compare", "/responses/{r02}/compare/{r03}/"),
    Page("inspector:response-compare", "/responses/{r39}/compare/{r40}/"),
    Page("inspector:compare-pick", "/compare/"),
    Page("inspector:tool-calls", "/tool-calls/"),
    Page("inspector:tool-calls", "/tool-calls/?flag=failed"),
    Page("inspector:runs", "/runs/"),
    Page("inspector:runs", "/runs/?problems=yes&sort=-cost"),
    Page("inspector:overview", "/overview/?period_from=2025-01-01&period_to=2026-12-31"),
    Page("inspector:overview", "/overview/?by=hour"),
    Page("inspector:playground", "/playground/"),
    Page("inspector:playground", "/playground/?from={r29}"),
    Page("inspector:playground-session", "/playground/{session}/"),
    Page("inspector:import", "/import/"),
    Page("inspector:patterns", "/patterns/"),
    Page("403", "/patterns/", 403, who="viewer"),
    Page("404", "/no-such-page/", 404),
    Page("404", "/responses/{r01}/items/output/99/", 404),
    Page("login", "/accounts/login/", who="anonymous"),
    Page("500", "/a-server-error/", 500),  # served from Django's server_error (below)
]

#: Routes of inspector/urls.py that are not an HTML page of their own, and why.
NOT_PAGES = {
    "inspector:healthz": "plain text",
    "inspector:response-json": "JSON",
    "inspector:response-markdown": "Markdown",
    "inspector:response-trace-json": "JSON",
    "inspector:response-trace-markdown": "Markdown",
    "inspector:response-events-json": "JSON",
    "inspector:response-input-items": "a fragment the response page loads",
    "inspector:response-poll": "POST: a fragment the response page polls (needs the key)",
    "inspector:response-goto": "a redirect to the item's place on its page",
    "inspector:response-fetch-step": "POST",
    "inspector:response-trace-fetch-step": "POST",
    "inspector:response-refresh-discard": "POST",
    "inspector:response-notes": "a fragment (redirects to the response page)",
    "inspector:response-trace-turn": "a fragment (redirects to the trace with ?turns=all)",
    "inspector:response-refresh": "POST",
    "inspector:response-resume": "POST",
    "inspector:response-trace-step": "POST",
    "inspector:response-events-replay": "POST",
    "inspector:response-events-follow": "POST",
    "inspector:note-add": "POST",
    "inspector:note-delete": "POST",
    "inspector:review-set": "POST",
    "inspector:playground-count": "POST",
    "inspector:playground-api-count": "POST",
    "inspector:playground-attribute": "POST",
    "inspector:playground-save": "POST",
    "inspector:playground-batch": "POST (its result is on the playground page)",
}


def inspector_routes(patterns: list[Any], namespace: str = "") -> set[str]:
    found: set[str] = set()
    for entry in patterns:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            found |= inspector_routes(entry.url_patterns, inner)
        elif isinstance(entry, URLPattern) and namespace == "inspector:":
            found.add(f"{namespace}{entry.name}")
    return found


def test_every_route_is_a_page_here_or_said_not_to_be():
    routes = inspector_routes(get_resolver().url_patterns)
    assert routes - {page.route for page in PAGES} - set(NOT_PAGES) == set()
    assert set(NOT_PAGES) <= routes


def demo_ids() -> dict[str, str]:
    return {
        f"r{path.name[:2]}": json.loads(path.read_text())["response"]["id"]
        for path in DEMO.glob("[0-9][0-9]_*.json")
    }


def log_in(browser: Any, live_server: Any, user: Any, width: int) -> Any:
    context = browser.new_context(viewport={"width": width, "height": 900})
    if user is not None:
        client = Client()
        client.force_login(user)
        host = live_server.url.split("//", 1)[1].split(":")[0]
        cookie = client.cookies["sessionid"].value
        context.add_cookies([{"name": "sessionid", "value": cookie, "domain": host, "path": "/"}])
    context.add_init_script(WATCH)
    return context


def server_error_page(live_server: Any) -> tuple[str, dict[str, str]]:
    """What Django's handler500 answers, with the headers a real response carries (CSP)."""
    from django.test import RequestFactory
    from django.views.defaults import server_error

    body = server_error(RequestFactory().get("/a-server-error/")).content.decode()
    headers = dict(Client().get("/accounts/login/").headers)
    keep = ("Content-Security-Policy", "X-Content-Type-Options", "Referrer-Policy")
    return body, {name: headers[name] for name in keep if name in headers}


@pytest.mark.parametrize(
    "page_spec", PAGES, ids=[f"{p.route.removeprefix('inspector:')} {p.path}" for p in PAGES]
)
def test_the_page_fits_420_px_is_accessible_in_both_themes_and_runs_clean(
    page_spec, browser, live_server, django_user_model, settings
):
    settings.OPENAI_API_KEY = ""
    store.load_demo()
    staff = django_user_model.objects.create_superuser("staff", "", "a-long-test-password-42")
    session = PlaygroundSession.objects.create(
        name="Support turn", slug="support-turn-0a1b2c", state={"text": "Hello"}, author=staff
    )
    users = {"staff": staff, "anonymous": None}
    if page_spec.who == "viewer":
        viewer = django_user_model.objects.create_user("viewer", password="a-long-test-pw-42")
        viewer.groups.add(Group.objects.get(name="viewer"))
        users["viewer"] = viewer
    path = page_spec.path.format(**demo_ids(), session=session.slug)

    context = log_in(browser, live_server, users[page_spec.who], WIDTHS[0])
    page = context.new_page()
    console: list[str] = []
    page.on(
        "console",
        lambda m: console.append(f"{m.text} at {m.location}") if m.type == "error" else None,
    )
    page.on("pageerror", lambda e: console.append(str(e)))
    if page_spec.status == 500:
        body, headers = server_error_page(live_server)
        page.route(
            live_server.url + path,
            lambda route: route.fulfill(status=500, body=body, headers=headers,
                                        content_type="text/html; charset=utf-8"),
        )  # fmt: skip
    answer = page.goto(live_server.url + path)
    assert answer.status == page_spec.status
    page.evaluate("document.querySelectorAll('details').forEach(d => { d.open = true; })")
    page.evaluate("new Promise(done => setTimeout(done, 0))")  # what load and toggle queued
    page.evaluate(AXE_SCRIPT)

    problems: list[str] = []
    for theme in THEMES:
        page.emulate_media(color_scheme=theme)
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 900})
            where = f"{theme} {width}px"
            if width == 420:
                scroll = page.evaluate("document.scrollingElement.scrollWidth")
                inner = page.evaluate("window.innerWidth")
                if scroll > inner:
                    problems.append(f"{where}: the page is {scroll}px wide")
            if (theme, width) in AXE_AT:
                problems += [f"{where}: {finding}" for finding in page.evaluate(AXE_RUN)]
    # The browser reports the page's own status (404, 403, 500) as a failed load: expected.
    expected = f"the server responded with a status of {page_spec.status}"
    console = [line for line in console if not (expected in line and path in line)]
    csp = page.evaluate("window.__csp || []")
    context.close()
    assert problems == []
    assert console == []
    assert csp == []
