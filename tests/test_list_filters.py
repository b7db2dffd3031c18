"""The list on /: every filter, sorting, pagination, filters in the URL, and a query count
that does not grow with the number of rows."""

import random
import re
from datetime import UTC, datetime
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest

from inspector import listing, notes, pricing, search, store
from inspector.models import SearchText, StoredResponse

pytestmark = pytest.mark.django_db

DAY = 86400
JAN_1 = int(datetime(2026, 1, 1, 12, tzinfo=UTC).timestamp())


@pytest.fixture(autouse=True)
def test_prices(monkeypatch: pytest.MonkeyPatch) -> None:
    """One dollar per million tokens on every model but "unpriced-model"."""

    def price(model: str, *, input_tokens: int, output_tokens: int = 0, **_: Any) -> Any:
        if model == "unpriced-model":
            return None
        return SimpleNamespace(total=Decimal(input_tokens + output_tokens) / 1_000_000)

    monkeypatch.setattr(pricing, "price", price)
    # What the store keeps for the list: the same made-up total.
    monkeypatch.setattr(
        pricing, "total", lambda model, **kw: getattr(price(model, **kw), "total", None)
    )


def body(rid: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": rid,
        "object": "response",
        "created_at": JAN_1,
        "status": "completed",
        "model": "gpt-5",
        "output": [],
        "tools": [],
        "usage": usage(100),
        **extra,
    }


def usage(total: int) -> dict[str, Any]:
    return {
        "input_tokens": total - 10,
        "input_tokens_details": {"cached_tokens": 0},
        "output_tokens": 10,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": total,
    }


def call(name: str, arguments: str = "{}") -> dict[str, Any]:
    return {
        "type": "function_call",
        "id": f"fc_{name}",
        "call_id": f"call_{name}",
        "name": name,
        "arguments": arguments,
        "status": "completed",
    }


def said(text: str, role: str = "assistant") -> dict[str, Any]:
    kind = "output_text" if role == "assistant" else "input_text"
    return {
        "type": "message",
        "id": f"msg_{abs(hash(text))}",
        "role": role,
        "content": [{"type": kind, "text": text}],
    }


def keep(rid: str, items: list[Any] | None = None, **extra: Any) -> str:
    store.save_bundle(body(rid, **extra), items, source=StoredResponse.Source.IMPORT)
    return rid


def listed(client: Any, query: str = "") -> list[str]:
    response = client.get(f"/?{query}")
    assert response.status_code == 200
    return [row.id for row in response.context["page"].object_list]


@pytest.fixture
def varied(user: Any) -> dict[str, str]:
    """Responses that differ in one way each from `plain`."""
    return {
        "plain": keep("resp_plain"),
        "mini": keep("resp_mini", model="gpt-5-mini"),
        "failed": keep(
            "resp_failed",
            status="failed",
            error={"code": "server_error", "message": "boom"},
            usage=None,
        ),
        "tool": keep("resp_tool", output=[call("get_order", '{"order_id": "A-77"}')]),
        "prefix_tool": keep("resp_prefix_tool", output=[call("get_order_status")]),
        "later": keep("resp_later", created_at=JAN_1 + 10 * DAY),
        "meta": keep("resp_meta", metadata={"customer": "acme", "env": "prod"}),
        "instructed": keep("resp_instructed", instructions="Always answer like a PIRATE."),
        "input": keep("resp_input", [said("Where is my parcel?", role="user")]),
        "answer": keep("resp_answer", output=[said("Your refund is on its way.")]),
    }


# --- filters -----------------------------------------------------------------------------


def test_without_filters_every_response_is_listed_newest_first(logged_in, varied):
    ids = listed(logged_in)
    assert sorted(ids) == sorted(varied.values())
    assert ids[0] == "resp_later"


def test_model_filter_keeps_only_that_model(logged_in, varied):
    assert listed(logged_in, "model=gpt-5-mini") == ["resp_mini"]


def test_model_choices_come_from_what_is_stored_and_status_choices_from_the_api(logged_in, varied):
    form = logged_in.get("/").context["filters"]
    assert ("gpt-5-mini", "gpt-5-mini") in form.fields["model"].choices
    assert ("cancelled", "cancelled") in form.fields["status"].choices


def test_status_filter(logged_in, varied):
    assert listed(logged_in, "status=failed") == ["resp_failed"]


def test_tool_name_filter_is_exact(logged_in, varied):
    assert listed(logged_in, "tool=get_order") == ["resp_tool"]
    assert listed(logged_in, "tool=get_order_status") == ["resp_prefix_tool"]
    assert listed(logged_in, "tool=get_ord") == []
    assert listed(logged_in, "tool=GET_ORDER") == []


def test_has_error_filter_both_ways(logged_in, varied):
    assert listed(logged_in, "error=true") == ["resp_failed"]
    assert "resp_failed" not in listed(logged_in, "error=false")
    assert len(listed(logged_in, "error=false")) == len(varied) - 1


def test_review_status_filter(logged_in, varied, user):
    notes.set_review(StoredResponse.objects.get(pk="resp_tool"), "flagged", user)
    notes.set_review(StoredResponse.objects.get(pk="resp_mini"), "approved", user)
    assert listed(logged_in, "review=flagged") == ["resp_tool"]
    assert listed(logged_in, "review=approved") == ["resp_mini"]
    assert "resp_tool" not in listed(logged_in, "review=unreviewed")


def test_created_date_range_includes_both_ends(logged_in, varied):
    assert listed(logged_in, "created_from=2026-01-05") == ["resp_later"]
    assert listed(logged_in, "created_from=2026-01-11&created_to=2026-01-11") == ["resp_later"]
    assert "resp_later" not in listed(logged_in, "created_to=2026-01-10")


def test_a_reversed_date_range_says_so(logged_in, varied):
    response = logged_in.get("/?created_from=2026-02-01&created_to=2026-01-01")
    assert b"Before the start date." in response.content


def test_metadata_key_value_filter(logged_in, varied):
    assert listed(logged_in, "meta_key=customer&meta_value=acme") == ["resp_meta"]
    assert listed(logged_in, "meta_key=customer&meta_value=ACME") == []
    assert listed(logged_in, "meta_key=env&meta_value=acme") == []


def test_a_metadata_key_that_is_not_an_identifier_is_refused_and_filters_nothing(logged_in, varied):
    response = logged_in.get("/?meta_key=a__contains&meta_value=x")
    assert b"Letters, digits and _ . : - only" not in response.content
    response = logged_in.get("/?meta_key=a%27)--&meta_value=x")
    assert b"Letters, digits and _ . : - only" in response.content
    assert len(response.context["page"].object_list) == len(varied)


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("pirate", "resp_instructed"),
        ("where is my PARCEL", "resp_input"),
        ("refund is on", "resp_answer"),
        ('"order_id": "a-77"', "resp_tool"),
    ],
)
def test_free_text_searches_instructions_messages_and_tool_arguments(
    logged_in, varied, text, found
):
    assert listed(logged_in, f"q={text}") == [found]


def test_free_text_finds_input_items_fetched_in_later_pages(logged_in):
    items = [said(f"filler {i}", role="user") for i in range(700)] + [said("needle!", "user")]
    keep("resp_long", items)
    assert listed(logged_in, "q=needle") == ["resp_long"]


def test_a_long_item_is_indexed_in_bounded_parts_and_found_to_its_end(logged_in):
    keep("resp_huge", [said("lorem ipsum " * 5000 + "needle at the end", role="user")])
    parts = SearchText.objects.filter(response_id="resp_huge", section="input")
    assert parts.count() > 1
    assert all(len(text) <= search.PART for text in parts.values_list("text", flat=True))
    assert listed(logged_in, "q=needle") == ["resp_huge"]


def test_filters_combine(logged_in, varied):
    assert listed(logged_in, "model=gpt-5&q=pirate&error=false") == ["resp_instructed"]
    assert listed(logged_in, "model=gpt-5-mini&q=pirate") == []


def test_the_filter_form_is_a_get_form_so_the_url_can_be_shared(logged_in, varied):
    html = logged_in.get("/?tool=get_order").content.decode()
    assert re.search(r'<form class="list-filters" method="get" action="/"', html)
    assert 'name="tool" value="get_order"' in html


def test_a_tool_chip_links_to_the_list_filtered_by_that_tool(logged_in, varied):
    assert 'href="/?tool=get_order"' in logged_in.get("/").content.decode()


# --- sorting -----------------------------------------------------------------------------


@pytest.fixture
def sized(user: Any) -> None:
    keep("resp_small", usage=usage(100), created_at=JAN_1 + 3)
    keep("resp_big", usage=usage(9000), created_at=JAN_1 + 1)
    keep("resp_medium", usage=usage(500), created_at=JAN_1 + 2)
    keep("resp_none", usage=None, created_at=JAN_1 + 4)
    keep("resp_unpriced", usage=usage(700), model="unpriced-model", created_at=JAN_1)


def test_sort_by_created_time_both_ways(logged_in, sized):
    newest = ["resp_none", "resp_small", "resp_medium", "resp_big", "resp_unpriced"]
    assert listed(logged_in) == newest
    assert listed(logged_in, "sort=-created") == newest
    assert listed(logged_in, "sort=created") == newest[::-1]


def test_sort_by_tokens_puts_responses_without_usage_last(logged_in, sized):
    assert listed(logged_in, "sort=-tokens") == [
        "resp_big",
        "resp_unpriced",
        "resp_medium",
        "resp_small",
        "resp_none",
    ]
    assert listed(logged_in, "sort=tokens")[:4] == [
        "resp_small",
        "resp_medium",
        "resp_unpriced",
        "resp_big",
    ]
    assert listed(logged_in, "sort=tokens")[-1] == "resp_none"


def test_sort_by_cost_puts_unpriced_responses_last(logged_in, sized):
    most = listed(logged_in, "sort=-cost")
    assert most[:3] == ["resp_big", "resp_medium", "resp_small"]
    assert set(most[3:]) == {"resp_none", "resp_unpriced"}
    assert listed(logged_in, "sort=cost")[:3] == ["resp_small", "resp_medium", "resp_big"]


def test_cost_is_kept_at_store_time_and_shown(logged_in, sized):
    assert StoredResponse.objects.get(pk="resp_big").cost == Decimal("0.009")
    assert StoredResponse.objects.get(pk="resp_unpriced").cost is None
    assert "$0.00900<" in logged_in.get("/").content.decode()


def test_an_unknown_sort_falls_back_to_newest_first(logged_in, sized):
    assert listed(logged_in, "sort=body") == listed(logged_in)


# --- pagination and what each row shows -----------------------------------------------------


def test_pages_of_fifty_whose_links_keep_the_filters(logged_in, user):
    for i in range(120):
        keep(f"resp_{i:03}", created_at=JAN_1 + i, model="gpt-5" if i % 2 else "gpt-4.1")
    first = logged_in.get("/?model=gpt-5")
    assert first.context["page"].paginator.count == 60
    assert len(first.context["page"].object_list) == 50
    assert 'href="?model=gpt-5&amp;page=2"' in first.content.decode()
    second = listed(logged_in, "model=gpt-5&page=2")
    assert second == [f"resp_{i:03}" for i in range(19, 0, -2)]


def test_each_row_shows_its_review_status_and_note_count(logged_in, user):
    keep("resp_reviewed")
    stored = StoredResponse.objects.get(pk="resp_reviewed")
    notes.set_review(stored, "flagged", user)
    notes.add_note(stored, "", "first", user)
    notes.add_note(stored, "item-msg_1", "second", user)
    html = logged_in.get("/").content.decode()
    assert '<span class="badge review-flagged">flagged</span>' in html
    assert 'href="/responses/resp_reviewed/#notes">2</a>' in html


def test_rows_offer_a_comparison_with_the_previous_turn(logged_in, user):
    keep("resp_turn1")
    keep("resp_turn2", previous_response_id="resp_turn1")
    html = logged_in.get("/").content.decode()
    assert 'href="/responses/resp_turn1/compare/resp_turn2/"' in html
    assert 'name="r" value="resp_turn2"' in html


def test_the_list_requires_login(client):
    assert client.get("/?model=gpt-5").status_code == 302


def test_queries_per_page_do_not_grow_with_the_rows(logged_in, user, django_assert_max_num_queries):
    def fill(start: int, count: int) -> None:
        for i in range(start, start + count):
            keep(f"resp_q{i:03}", output=[call("lookup")], metadata={"k": "v"})
            stored = StoredResponse.objects.get(pk=f"resp_q{i:03}")
            notes.add_note(stored, "", "note", user)
            notes.set_review(stored, "approved", user)

    fill(0, 3)
    with django_assert_max_num_queries(8) as few:
        logged_in.get("/?tool=lookup&meta_key=k&meta_value=v&q=lookup&sort=-cost")
    fill(3, 60)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = logged_in.get("/?tool=lookup&meta_key=k&meta_value=v&q=lookup&sort=-cost")
    assert len(response.context["page"].object_list) == 50


def test_the_list_query_never_reads_bodies(user):
    keep("resp_body")
    sql = str(listing.filtered(listing.Filters(q="x", tool="t")).query)
    assert '"body"' not in sql
    selected, where = sql.split(" WHERE ", 1)
    assert "inspector_searchtext" in where  # the full-text index, in the WHERE clause only
    assert "inspector_searchtext" not in selected


def test_the_stored_cost_is_the_total_of_the_full_price():
    rng = random.Random(5)
    when = datetime(2026, 1, 1, tzinfo=UTC)
    for model in (*pricing.COMPARE_MODELS, "no-such-model"):
        for _ in range(20):
            counts = {
                "input_tokens": rng.randint(0, 400_000),
                "output_tokens": rng.randint(0, 50_000),
                "cache_write_tokens": rng.choice([0, rng.randint(0, 1000)]),
            }
            counts["cached_tokens"] = rng.randint(0, counts["input_tokens"] + 10)
            whole = pricing.price(model, when=when, **counts)
            assert pricing.total(model, when=when, **counts) == (whole and whole.total)


def linked_ids(page: bytes) -> list[str]:
    seen: list[str] = []
    for found in re.findall(r'href="/responses/(resp_\w+)/"', page.decode()):
        if found not in seen:
            seen.append(found)
    return seen


def test_the_list_is_newest_first_and_paginated(logged_in):
    for i in range(60):
        store.save_bundle(body(f"resp_{i:03d}", created_at=1767225600 + i), [], source="import")
    first = linked_ids(logged_in.get("/").content)
    second = linked_ids(logged_in.get("/", {"page": 2}).content)
    newest_first = [f"resp_{i:03d}" for i in reversed(range(60))]
    assert 0 < len(first) < 60
    assert first + second == newest_first[: len(first) + len(second)]
    assert len(second) > 0
