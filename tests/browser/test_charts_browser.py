"""The charts in a real browser: every chart of /overview/, of a trace and of the response page
draws with Chart.js, with no console error and no CSP violation, in both themes and at 420 px;
the table beside each holds the very numbers it draws; axe-core finds nothing serious or
critical on those pages, on /runs/ and on the playground."""

import json
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe

from inspector import store
from inspector.models import Run

pytestmark = pytest.mark.django_db(transaction=True)

THEMES = ("light", "dark")
OVERVIEW = "/overview/?period_from=2026-02-01&period_to=2026-03-31"


@pytest.fixture
def demo() -> dict[str, str]:
    store.load_demo()
    cua = Run.objects.get(turns=10)
    support = Run.objects.get(turns=3)
    return {
        "overview": OVERVIEW,
        "trace": f"/responses/{cua.last_id}/trace/",
        "response": f"/responses/{support.last_id}/",
    }


DRAWN = """() => Array.from(document.querySelectorAll("canvas[data-chart]")).map(canvas => {
  const chart = Chart.getChart(canvas);
  return {
    id: canvas.id,
    width: canvas.getBoundingClientRect().width,
    right: canvas.getBoundingClientRect().right,
    labels: chart ? chart.data.labels : null,
    datasets: chart ? chart.data.datasets.map(d => ({label: d.label, data: d.data,
                                                     colour: d.backgroundColor})) : null,
  };
})"""
TABLES = """() => Object.fromEntries(Array.from(document.querySelectorAll("[data-chart-table]"))
  .map(table => [table.dataset.chartTable, {
    head: Array.from(table.querySelectorAll("thead th")).map(th => th.textContent.trim()),
    rows: Array.from(table.querySelectorAll("tbody tr")).map(tr => ({
      label: tr.querySelector("th").textContent.trim(),
      values: Array.from(tr.querySelectorAll("td[data-value]")).map(td => td.dataset.value),
    })),
  }]))"""


#: Every chart of the page drawn (none to draw on /runs/).
DRAWN_ALL = """() => Array.from(document.querySelectorAll("canvas[data-chart]"))
  .every(canvas => window.Chart && Chart.getChart(canvas))"""


def open_page(watched: Any, path: str, theme: str, width: int = 1280) -> Any:
    page = watched.page
    page.set_viewport_size({"width": width, "height": 900})
    page.emulate_media(color_scheme=theme)
    watched.goto(path)
    page.wait_for_function(DRAWN_ALL)
    return page


def number(raw: str) -> float | None:
    return None if raw == "" else json.loads(raw)


def same_numbers(chart: dict[str, Any], table: dict[str, Any]) -> None:
    """The table under a chart holds, cell by cell, what the chart draws."""
    datasets = chart["datasets"]
    if chart["id"] == "chart-response-cost":  # one bar of four parts: a row a part
        assert [row["label"] for row in table["rows"]] == [d["label"] for d in datasets]
        for row, dataset in zip(table["rows"], datasets, strict=True):
            assert float(row["values"][0]) == dataset["data"][0]
        return
    assert [row["label"] for row in table["rows"]] == chart["labels"]
    assert table["head"][1 : 1 + len(datasets)] == [d["label"] for d in datasets]
    for index, row in enumerate(table["rows"]):
        drawn = [d["data"][index] for d in datasets]
        assert [number(raw) for raw in row["values"][: len(datasets)]] == drawn


@pytest.mark.parametrize("theme", THEMES)
@pytest.mark.parametrize("which", ["overview", "trace", "response"])
def test_every_chart_draws_without_errors_and_its_table_holds_its_numbers(
    watched, demo, which, theme
):
    page = open_page(watched, demo[which], theme)
    drawn = page.evaluate(DRAWN)
    tables = page.evaluate(TABLES)
    expected = {"overview": 8, "trace": 2, "response": 1}[which]
    assert len(drawn) == expected
    for chart in drawn:
        assert chart["datasets"], chart["id"]
        assert chart["width"] > 100, chart["id"]
        same_numbers(chart, tables[chart["id"]])
    watched.assert_clean()


def test_switching_the_theme_draws_the_charts_again_in_its_colours(watched, demo):
    page = open_page(watched, demo["trace"], "light")
    before = page.evaluate(DRAWN)
    page.click("[data-theme-toggle]")
    page.wait_for_function("() => document.documentElement.dataset.theme === 'dark'")
    after = page.evaluate(DRAWN)
    assert [c["datasets"][0]["colour"] for c in before] != [
        c["datasets"][0]["colour"] for c in after
    ]
    assert [c["datasets"][0]["data"] for c in before] == [c["datasets"][0]["data"] for c in after]
    watched.assert_clean()


@pytest.mark.parametrize("which", ["overview", "trace", "response"])
def test_at_420_px_every_chart_fits_the_window(watched, demo, which):
    page = open_page(watched, demo[which], "light", width=420)
    for chart in page.evaluate(DRAWN):
        assert chart["width"] > 100 and chart["right"] <= 420, chart["id"]
    watched.assert_clean()


def test_a_tool_strip_mark_opens_its_call_on_the_trace(watched, demo):
    page = open_page(watched, demo["trace"], "light")
    mark = page.locator(".tool-strip a.mark").first
    target = mark.get_attribute("href").split("#", 1)[1]
    mark.click()
    page.wait_for_function(f"() => location.hash === '#{target}'")
    assert page.locator(f"[id='{target}']").count() == 1
    watched.assert_clean()


def serious(page: Any) -> list[tuple[str, str, list[Any]]]:
    found = Axe().run(page).response["violations"]
    return [(v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3]) for v in found
            if v["impact"] in ("serious", "critical")]  # fmt: skip


@pytest.mark.parametrize("theme", THEMES)
@pytest.mark.parametrize("width", [1280, 420])
def test_axe_finds_nothing_serious_on_the_pages_with_charts_runs_and_the_playground(
    watched, demo, theme, width
):
    for path in ("/runs/", demo["overview"], demo["trace"], demo["response"]):
        page = open_page(watched, path, theme, width)
        assert serious(page) == [], (path, theme, width)
    page = watched.page
    watched.goto("/playground/")
    page.wait_for_selector(".input-view:not([hidden])")
    assert serious(page) == [], ("/playground/", theme, width)
    watched.assert_clean()
