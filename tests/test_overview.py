"""/overview/: usage, cost and tool calls over a period, read from the hourly rollups the
triggers keep, equal to the sums over the stored responses; the pure chart builders."""

import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.db.models import Count, Sum

from inspector import charts, pricing, store
from inspector.models import StoredResponse, ToolCall, ToolHour, UsageHour
from tests.factories import response_body

MARCH_2 = datetime(2026, 3, 2, tzinfo=UTC)


@pytest.fixture(autouse=True)
def test_prices(monkeypatch: pytest.MonkeyPatch) -> None:
    """The list's cost column, made up: a dollar per thousand tokens, "unpriced" has none."""

    def total(model: str, *, input_tokens: int, output_tokens: int = 0, **_: Any) -> Any:
        return None if model == "unpriced" else Decimal(input_tokens + output_tokens) / 1000

    monkeypatch.setattr(pricing, "total", total)


def keep(rid: str, at: datetime, model: str = "gpt-5", **fields: Any) -> None:
    body = response_body(rid, created_at=int(at.timestamp()), model=model, **fields)
    body.setdefault(
        "usage",
        {
            "input_tokens": 1000,
            "input_tokens_details": {"cached_tokens": 400},
            "output_tokens": 300,
            "output_tokens_details": {"reasoning_tokens": 120},
            "total_tokens": 1300,
        },
    )
    body.setdefault("completed_at", body["created_at"] + 7)
    store.save_bundle(body, [], source="import")


FAILED_CALL = {"id": "mcp_1", "type": "mcp_call", "name": "crm_lookup", "server_label": "crm",
               "arguments": "{}", "error": "boom", "status": "failed"}  # fmt: skip
GOOD_CALL = {"id": "mcp_2", "type": "mcp_call", "name": "crm_lookup", "server_label": "crm",
             "arguments": "{}", "output": "ok", "status": "completed"}  # fmt: skip


@pytest.fixture
def stored() -> None:
    keep("resp_a", MARCH_2 + timedelta(hours=9), output=[FAILED_CALL])
    keep("resp_b", MARCH_2 + timedelta(hours=9, minutes=30), output=[GOOD_CALL])
    keep("resp_c", MARCH_2 + timedelta(days=1, hours=3), model="gpt-5-mini",
         metadata={"team": "ops"})  # fmt: skip
    keep("resp_d", MARCH_2 + timedelta(days=2), model="unpriced", status="failed",
         error={"code": "server_error", "message": "x"})  # fmt: skip
    keep("resp_old", MARCH_2 - timedelta(days=40))


def chart(page: Any, chart_id: str) -> dict[str, Any]:
    for found in [*page.context["usage_charts"], page.context["share_chart"]]:
        if found.id == chart_id:
            return found.spec()
    raise KeyError(chart_id)


@pytest.mark.django_db
def test_the_totals_equal_the_sums_over_the_stored_usage(logged_in, stored):
    page = logged_in.get("/overview/?period_from=2026-03-01&period_to=2026-03-31")
    totals = page.context["totals"]
    rows = StoredResponse.objects.filter(created_at__gte=datetime(2026, 3, 1, tzinfo=UTC))
    sums = rows.aggregate(Count("pk"), Sum("input_tokens"), Sum("cached_tokens"),
                          Sum("output_tokens"), Sum("reasoning_tokens"), Sum("cost"))  # fmt: skip
    assert totals.requests == sums["pk__count"] == 4
    assert totals.input_tokens == sums["input_tokens__sum"]
    assert totals.cached_tokens == sums["cached_tokens__sum"]
    assert totals.output_tokens == sums["output_tokens__sum"]
    assert totals.reasoning_tokens == sums["reasoning_tokens__sum"]
    assert totals.cost == sums["cost__sum"] == Decimal("3.9")  # the list's cost column
    assert (totals.errors, totals.unpriced) == (1, 1)
    text = page.content.decode()
    assert '<dd id="total-requests">4</dd>' in text
    assert "$3.90" in text and "1 response with no known price" in text


@pytest.mark.django_db
def test_each_day_holds_its_responses_stacked_by_model(logged_in, stored):
    page = logged_in.get("/overview/?period_from=2026-03-01&period_to=2026-03-05")
    requests = chart(page, "chart-requests")
    assert requests["labels"] == [f"2026-03-0{d}" for d in range(1, 6)]
    by_model = {d["label"]: d["data"] for d in requests["datasets"]}
    assert by_model == {
        "gpt-5": [0, 2, 0, 0, 0],
        "gpt-5-mini": [0, 0, 1, 0, 0],
        "unpriced": [0, 0, 0, 1, 0],
    }
    uncached = {d["label"]: d["data"] for d in chart(page, "chart-input-uncached")["datasets"]}
    assert uncached["gpt-5"] == [0, 1200, 0, 0, 0]
    visible = {d["label"]: d["data"] for d in chart(page, "chart-output")["datasets"]}
    assert visible["gpt-5-mini"] == [0, 0, 180, 0, 0]
    cost = {d["label"]: d["data"] for d in chart(page, "chart-cost")["datasets"]}
    assert cost["gpt-5"] == [0, 2.6, 0, 0, 0]
    share = {d["label"]: d["data"] for d in chart(page, "chart-cache-share")["datasets"]}
    assert share["All models"] == [None, 40.0, 40.0, 40.0, None]


@pytest.mark.django_db
def test_by_hour_the_buckets_are_hours_and_a_long_period_falls_back_to_days(logged_in, stored):
    page = logged_in.get("/overview/?period_from=2026-03-02&period_to=2026-03-02&by=hour")
    requests = chart(page, "chart-requests")
    assert len(requests["labels"]) == 24 and requests["labels"][9] == "2026-03-02 09:00"
    assert requests["datasets"][0]["data"][9] == 2
    long = logged_in.get("/overview/?period_from=2026-01-01&period_to=2026-03-31&by=hour")
    assert not long.context["period"].by_hour
    assert "By hour covers at most 14 days" in long.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("meta", ["", "&meta_key=team&meta_value=late"])
def test_days_are_the_sites_local_days_whether_or_not_the_clocks_change_in_the_period(
    logged_in, settings, meta
):
    settings.TIME_ZONE = "Europe/Amsterdam"
    late = {"metadata": {"team": "late"}}
    keep("resp_late", datetime(2026, 3, 2, 23, 30, tzinfo=UTC), **late)  # the 3rd there
    keep("resp_summer", datetime(2026, 3, 30, 22, 30, tzinfo=UTC), **late)  # the 31st there
    winter = logged_in.get(f"/overview/?period_from=2026-03-01&period_to=2026-03-05{meta}")
    requests = chart(winter, "chart-requests")["datasets"][0]["data"]
    assert requests == [0, 0, 1, 0, 0]
    spring = logged_in.get(f"/overview/?period_from=2026-03-01&period_to=2026-03-31{meta}")
    requests = chart(spring, "chart-requests")["datasets"][0]["data"]
    assert (requests[2], requests[30], sum(requests)) == (1, 1, 2)


@pytest.mark.django_db
def test_a_model_or_metadata_filter_narrows_every_figure(logged_in, stored):
    base = "/overview/?period_from=2026-03-01&period_to=2026-03-31"
    by_model = logged_in.get(f"{base}&model=gpt-5-mini").context["totals"]
    by_meta = logged_in.get(f"{base}&meta_key=team&meta_value=ops").context["totals"]
    for totals in (by_model, by_meta):
        assert (totals.requests, totals.input_tokens, totals.cost) == (1, 1000, Decimal("1.3"))
    tools = logged_in.get(f"{base}&meta_key=team&meta_value=ops").context["tools"]
    assert tools == []


@pytest.mark.django_db
def test_tools_are_listed_by_calls_with_their_failures_as_the_index_has_them(logged_in, stored):
    page = logged_in.get("/overview/?period_from=2026-03-01&period_to=2026-03-31")
    (tool,) = page.context["tools"]
    calls = ToolCall.objects.filter(name="crm_lookup")
    assert (tool.name, tool.calls, tool.failed) == ("crm_lookup", calls.count(), 1)
    spec = page.context["tools_chart"].spec()
    assert [d["data"] for d in spec["datasets"]] == [[1], [1]]
    assert "50.0 %" in page.content.decode()  # the failure rate, in the table


@pytest.mark.django_db
def test_the_dearest_and_slowest_responses_and_runs_are_linked(logged_in, stored):
    keep("resp_slow", MARCH_2 + timedelta(hours=20), completed_at=int(MARCH_2.timestamp()) + 90000)
    page = logged_in.get("/overview/?period_from=2026-03-01&period_to=2026-03-31")
    assert page.context["slowest"][0].id == "resp_slow"
    assert {r.id for r in page.context["dearest"]} == {"resp_a", "resp_b", "resp_c", "resp_slow"}
    assert page.context["dearest_runs"][0].cost == Decimal("1.3")
    text = page.content.decode()
    assert 'href="/responses/resp_slow/"' in text
    assert 'href="/responses/resp_slow/trace/"' in text


@pytest.mark.django_db
def test_the_default_period_is_the_thirty_days_up_to_the_newest_response(logged_in, stored):
    page = logged_in.get("/overview/")
    period = page.context["period"]
    assert (period.first, period.last) == (date(2026, 2, 3), date(2026, 3, 4))  # resp_d's day
    assert period.days == 30
    assert page.context["totals"].requests == 4  # not resp_old, of 2026-01-21


@pytest.mark.django_db
def test_the_rollups_stay_exact_through_updates_and_deletes(stored):
    def from_rows() -> list[tuple[Any, ...]]:
        return sorted(
            (row["model"], row["requests"], row["input_tokens"])
            for row in StoredResponse.objects.filter(created_at__isnull=False)
            .values("model")
            .annotate(requests=Count("pk"), input_tokens=Sum("input_tokens"))
        )

    def from_rollup() -> list[tuple[Any, ...]]:
        return sorted(
            (row["model"], row["requests"], row["input_tokens"])
            for row in UsageHour.objects.values("model").annotate(
                requests=Sum("requests"), input_tokens=Sum("input_tokens")
            )
        )

    assert from_rollup() == from_rows()
    keep("resp_a", MARCH_2 + timedelta(days=3), model="gpt-4.1")  # updated: moved and changed
    assert from_rollup() == from_rows()
    store.delete_response(StoredResponse.objects.get(pk="resp_b"))
    assert from_rollup() == from_rows()
    assert not ToolHour.objects.filter(name="crm_lookup").exists()  # both calls gone
    StoredResponse.objects.all().delete()
    assert not UsageHour.objects.exists()


@pytest.mark.django_db
def test_the_overview_reads_the_same_number_of_queries_however_much_is_stored(
    logged_in, django_assert_max_num_queries
):
    url = "/overview/?period_from=2026-03-01&period_to=2026-03-31"
    keep("resp_first", MARCH_2)
    with django_assert_max_num_queries(20) as few:
        logged_in.get(url)
    for n in range(30):
        keep(f"resp_n{n}", MARCH_2 + timedelta(hours=n * 7), model=f"model-{n % 9}")
    with django_assert_max_num_queries(len(few.captured_queries)):
        logged_in.get(url)


@pytest.mark.django_db
def test_the_overview_of_an_empty_store_says_so(logged_in):
    page = logged_in.get("/overview/")
    assert page.status_code == 200
    assert "Nothing in this period." in page.content.decode()


# --- the chart builders (pure) --------------------------------------------------------------


def test_days_are_local_days_and_an_hour_cell_lands_in_its_local_day():
    zone = ZoneInfo("Europe/Amsterdam")
    spans = charts.buckets(date(2026, 3, 1), date(2026, 3, 2), zone, by_hour=False)
    assert spans.labels == ["2026-03-01", "2026-03-02"]
    assert spans.index(datetime(2026, 3, 1, 23, tzinfo=UTC)) == 1  # 00:00 on the 2nd there
    assert spans.index(datetime(2026, 2, 28, 22, tzinfo=UTC)) is None
    hours = charts.buckets(date(2026, 3, 1), date(2026, 3, 1), zone, by_hour=True)
    assert hours.index(datetime(2026, 3, 1, 9, tzinfo=UTC)) == 10


def cell(hour: int, model: str, requests: int = 1) -> charts.UsageCell:
    return charts.UsageCell(datetime(2026, 3, 1, hour, tzinfo=UTC), model, requests, 0, 100,
                            10, 50, 5, Decimal("0.5"), 0)  # fmt: skip


def test_models_past_the_seventh_are_summed_as_other_models_and_the_table_adds_all():
    spans = charts.buckets(date(2026, 3, 1), date(2026, 3, 1), UTC, by_hour=False)
    cells = [cell(h, f"m{h}", requests=20 - h) for h in range(10)]
    usage, _, totals = charts.usage_charts(cells, spans)
    requests = usage[0]
    assert [d.label for d in requests.datasets] == [*(f"m{h}" for h in range(6)), "4 other models"]
    assert requests.datasets[-1].values == [11 + 12 + 13 + 14]
    assert requests.header[-1] == "All models" and requests.rows[0][1][-1].value == totals.requests
    assert totals.requests == sum(20 - h for h in range(10))


def test_a_table_cell_holds_exactly_the_value_the_chart_draws():
    chart = charts.Chart("c", "t", ["a"], [charts.Dataset("x", [0.1 + 0.2])], unit="usd")
    ((_, (only,)),) = chart.rows
    assert json.loads(only.raw) == chart.spec()["datasets"][0]["data"][0]
    assert only.text == "$0.300"
    assert charts.shown(None, "tokens") == "—" and charts.shown(1234, "tokens") == "1,234"


def test_the_tools_chart_splits_calls_into_failed_and_not():
    tools = [charts.ToolTotal("search", "web_search_call", 10, 4, 1, 5)]
    chart = charts.tools_chart(tools)
    assert [d.values for d in chart.datasets] == [[6], [4]]
    assert [cell.text for cell in chart.rows[0][1]] == ["6", "4", "10", "40.0 %", "1", "5"]


def test_a_response_with_no_price_has_no_cost_bar():
    assert charts.cost_chart(None) is None
    assert charts.cost_chart(SimpleNamespace(cost=None)) is None
