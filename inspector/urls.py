"""The URL contract of DESIGN.md: people bookmark these paths, keep them."""

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
urlpatterns = [
    path("", views.index, name="index"),
    path("lookup/", views.lookup, name="lookup"),
    path("healthz", views.healthz, name="healthz"),
    path("import/", views.import_page, name="import"),
    path("compare/", views.compare_pick, name="compare-pick"),
    path(
        "responses/<rid:response_id>/compare/<rid:other_id>/",
        views.response_compare,
        name="response-compare",
    ),
    path("responses/<rid:response_id>/notes/", views.response_notes, name="response-notes"),
    path("responses/<rid:response_id>/notes/add/", views.note_add, name="note-add"),
    path(
        "responses/<rid:response_id>/notes/<int:note_id>/delete/",
        views.note_delete,
        name="note-delete",
    ),
    path("responses/<rid:response_id>/review/", views.review_set, name="review-set"),
    path("responses/<rid:response_id>/", views.response_detail, name="response-detail"),
    path("responses/<rid:response_id>/delete/", views.response_delete, name="response-delete"),
    path("responses/<rid:response_id>.json", views.response_json, name="response-json"),
    path("responses/<rid:response_id>.md", views.response_markdown, name="response-markdown"),
    path("responses/<rid:response_id>/trace/", views.response_trace, name="response-trace"),
    path(
        "responses/<rid:response_id>/trace/turns/<int:number>/",
        views.response_trace_turn,
        name="response-trace-turn",
    ),
    path(
        "responses/<rid:response_id>/trace/step/",
        views.response_trace_step,
        name="response-trace-step",
    ),
    path(
        "responses/<rid:response_id>/trace.md",
        views.response_trace_markdown,
        name="response-trace-markdown",
    ),
    path(
        "responses/<rid:response_id>/trace.json",
        views.response_trace_json,
        name="response-trace-json",
    ),
    path("tool-calls/", views.tool_calls, name="tool-calls"),
    path(
        "responses/<rid:response_id>/items/",
        views.response_input_items,
        name="response-input-items",
    ),
    path(
        "responses/<rid:response_id>/items/<str:section>/<int:position>/",
        views.response_item,
        name="response-item",
    ),
    path(
        "responses/<rid:response_id>/instructions/",
        views.response_instructions,
        name="response-instructions",
    ),
    path("responses/<rid:response_id>/poll/", views.response_poll, name="response-poll"),
    path("patterns/", views.patterns, name="patterns"),
    path(
        "responses/<rid:response_id>/refresh/",
        views.response_refresh,
        name="response-refresh",
    ),
    path(
        "responses/<rid:response_id>/resume/",
        views.response_resume,
        name="response-resume",
    ),
    path(
        "responses/<rid:response_id>/fetch/step/",
        views.response_fetch_step,
        name="response-fetch-step",
    ),
    path(
        "responses/<rid:response_id>/refresh/discard/",
        views.response_refresh_discard,
        name="response-refresh-discard",
    ),
    path("responses/<rid:response_id>/search/", views.response_search, name="response-search"),
    path(
        "responses/<rid:response_id>/trace/search/",
        views.response_trace_search,
        name="response-trace-search",
    ),
    path(
        "responses/<rid:response_id>/trace/fetch/step/",
        views.response_trace_fetch_step,
        name="response-trace-fetch-step",
    ),
    path("playground/", views.playground, name="playground"),
    path("playground/count/", views.playground_count, name="playground-count"),
    path("playground/api-count/", views.playground_api_count, name="playground-api-count"),
    path("playground/attribute/", views.playground_attribute, name="playground-attribute"),
    path("playground/save/", views.playground_save, name="playground-save"),
    path("playground/<slug:slug>/", views.playground_session, name="playground-session"),
    path("responses/<rid:response_id>/events/", views.response_events, name="response-events"),
    path(
        "responses/<rid:response_id>/events.json",
        views.response_events_json,
        name="response-events-json",
    ),
    path(
        "responses/<rid:response_id>/events/replay/",
        views.response_events_replay,
        name="response-events-replay",
    ),
    path(
        "responses/<rid:response_id>/events/follow/",
        views.response_events_follow,
        name="response-events-follow",
    ),
]
