"""The URL contract of DESIGN.md: people bookmark these paths, keep them.

Grouped by prefix: the site's own pages, then /responses/<id>/… (one response and what
hangs on it: parts, exports, notes, trace, events), then /playground/….
"""

from django.urls import path, register_converter

from . import views


class ResponseIdConverter:
    regex = r"[A-Za-z0-9_-]{1,128}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(ResponseIdConverter, "rid")

app_name = "inspector"
RESPONSE = "responses/<rid:response_id>"  # one response: its page, parts, notes, trace, events

urlpatterns = [
    # --- the site's own pages -----------------------------------------------------------------
    path("", views.index, name="index"),
    path("lookup/", views.lookup, name="lookup"),
    path("healthz", views.healthz, name="healthz"),
    path("import/", views.import_page, name="import"),
    path("compare/", views.compare_pick, name="compare-pick"),
    path("tool-calls/", views.tool_calls, name="tool-calls"),
    path("runs/", views.runs, name="runs"),
    path("overview/", views.overview, name="overview"),
    path("patterns/", views.patterns, name="patterns"),
    # --- /responses/<id>/: the response page and its parts ------------------------------------
    path(f"{RESPONSE}/", views.response_detail, name="response-detail"),
    path(f"{RESPONSE}/delete/", views.response_delete, name="response-delete"),
    path(f"{RESPONSE}/refresh/", views.response_refresh, name="response-refresh"),
    path(f"{RESPONSE}/resume/", views.response_resume, name="response-resume"),
    path(f"{RESPONSE}/poll/", views.response_poll, name="response-poll"),
    path(f"{RESPONSE}/fetch/step/", views.response_fetch_step, name="response-fetch-step"),
    path(
        f"{RESPONSE}/refresh/discard/",
        views.response_refresh_discard,
        name="response-refresh-discard",
    ),
    path(f"{RESPONSE}/search/", views.response_search, name="response-search"),
    path(f"{RESPONSE}/items/", views.response_input_items, name="response-input-items"),
    path(f"{RESPONSE}/goto/", views.response_goto, name="response-goto"),
    path(f"{RESPONSE}/outline/", views.response_outline, name="response-outline"),
    path(
        f"{RESPONSE}/items/<str:section>/<int:position>/", views.response_item, name="response-item"
    ),
    path(f"{RESPONSE}/instructions/", views.response_instructions, name="response-instructions"),
    path(f"{RESPONSE}/compare/<rid:other_id>/", views.response_compare, name="response-compare"),
    # --- /responses/<id>.json, .md: its exports -----------------------------------------------
    path(f"{RESPONSE}.json", views.response_json, name="response-json"),
    path(f"{RESPONSE}.md", views.response_markdown, name="response-markdown"),
    # --- /responses/<id>/notes/, review/ ------------------------------------------------------
    path(f"{RESPONSE}/notes/", views.response_notes, name="response-notes"),
    path(f"{RESPONSE}/notes/add/", views.note_add, name="note-add"),
    path(f"{RESPONSE}/notes/<int:note_id>/delete/", views.note_delete, name="note-delete"),
    path(f"{RESPONSE}/review/", views.review_set, name="review-set"),
    # --- /responses/<id>/trace/ ---------------------------------------------------------------
    path(f"{RESPONSE}/trace/", views.response_trace, name="response-trace"),
    path(
        f"{RESPONSE}/trace/turns/<int:number>/",
        views.response_trace_turn,
        name="response-trace-turn",
    ),
    path(f"{RESPONSE}/trace/step/", views.response_trace_step, name="response-trace-step"),
    path(f"{RESPONSE}/trace/search/", views.response_trace_search, name="response-trace-search"),
    path(
        f"{RESPONSE}/trace/fetch/step/",
        views.response_trace_fetch_step,
        name="response-trace-fetch-step",
    ),
    path(f"{RESPONSE}/trace.md", views.response_trace_markdown, name="response-trace-markdown"),
    path(f"{RESPONSE}/trace.json", views.response_trace_json, name="response-trace-json"),
    # --- /responses/<id>/events/ --------------------------------------------------------------
    path(f"{RESPONSE}/events/", views.response_events, name="response-events"),
    path(f"{RESPONSE}/events.json", views.response_events_json, name="response-events-json"),
    path(f"{RESPONSE}/events/replay/", views.response_events_replay, name="response-events-replay"),
    path(f"{RESPONSE}/events/follow/", views.response_events_follow, name="response-events-follow"),
    # --- /playground/ -------------------------------------------------------------------------
    path("playground/", views.playground, name="playground"),
    path("playground/count/", views.playground_count, name="playground-count"),
    path("playground/api-count/", views.playground_api_count, name="playground-api-count"),
    path("playground/attribute/", views.playground_attribute, name="playground-attribute"),
    path("playground/save/", views.playground_save, name="playground-save"),
    path("playground/batch/", views.playground_batch, name="playground-batch"),
    # Last: a session's slug would otherwise shadow the paths above.
    path("playground/<slug:slug>/", views.playground_session, name="playground-session"),
]
