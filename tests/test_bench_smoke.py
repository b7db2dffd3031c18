"""The benchmarks of `make bench` still run: every figure function at tiny sizes.

Timings are never asserted here (budgets are measured by bench/run.py, DESIGN.md); counts
are, because they do not depend on the machine: upstream requests, SQL queries per page,
every part of a huge response reachable from its page.
"""

import contextlib
import math

import pytest
from django.db import connection, transaction

from bench import (
    common,
    fetch_steps,
    import_file,
    list_page,
    playground_count,
    response_page,
    runs_overview,
    token_accuracy,
    trace_page,
)
from inspector import tokens


def by_name(figures: list[common.Figure]) -> dict[str, common.Figure]:
    for figure in figures:
        assert math.isfinite(figure.value) and figure.value >= 0, figure
        assert figure.goal and figure.name
    return {figure.name: figure for figure in figures}


@pytest.mark.django_db
def test_response_page_figures_count_requests_queries_and_reach_every_item() -> None:
    figures = by_name(response_page.figures(common.TINY))
    pages = 1 + math.ceil(common.TINY.input_items / 100)
    fetched = figures["upstream requests to fetch the huge response"]
    assert fetched.value == pages and fetched.met
    assert figures["upstream requests to view it again"].value == 0
    assert figures["response page SQL queries: huge minus one-message"].met
    html = figures["response page HTML of the huge response (KB)"]
    assert html.met, html.detail
    search = figures["search inside the huge response ÷ one page of its input items"]
    assert search.value > 0 and "items, 20 listed" in search.detail
    assert "floor" in figures["storing the huge response ÷ its floor"].detail
    assert len(figures) == 7


@pytest.mark.django_db
def test_fetch_figures_time_the_first_view_and_every_step_to_the_end() -> None:
    first_view, longest = fetch_steps.figures(common.TINY)
    assert first_view.value > 0 and "2 requests each" in first_view.detail
    # Tiny: 450 items, 5 pages at 250 ms, all in the first step after the first view.
    assert longest.met and "then 1 steps" in longest.detail
    assert "450 items kept" in longest.detail


@pytest.mark.django_db
def test_trace_figure_compares_a_long_chain_with_one_turn() -> None:
    (figure,) = trace_page.figures(common.TINY)
    assert figure.value > 0 and "SQL queries" in figure.detail


@pytest.mark.django_db(transaction=True)  # outside a transaction: SQLite takes two files
def test_list_figures_keep_queries_per_page_constant() -> None:
    ratio, combined, free_text, queries = list_page.figures(common.TINY)
    assert ratio.value > 0 and combined.value > 0 and free_text.value > 0
    assert queries.met, queries.detail


@pytest.mark.django_db(transaction=True)  # outside a transaction: SQLite takes two files
def test_runs_and_overview_figures_keep_queries_per_page_constant() -> None:
    # On PostgreSQL in a transaction: the bench copies its database with CREATE DATABASE …
    # TEMPLATE, which needs no other session on it, and a suite's live servers may hold one.
    outside = connection.vendor == "sqlite"
    with contextlib.nullcontext() if outside else transaction.atomic():
        runs, runs_queries, overview, overview_queries = runs_overview.figures(common.TINY)
    assert runs.value > 0 and overview.value > 0
    assert runs_queries.met, runs_queries.detail
    assert overview_queries.met, overview_queries.detail


@pytest.mark.django_db
def test_import_figures_measure_child_memory_and_throughput() -> None:
    memory, throughput = import_file.figures(common.TINY)
    assert memory.value > 0 and "peak RSS" in memory.detail
    assert throughput.value > 0


def test_playground_figure_compares_with_raw_tiktoken() -> None:
    tokens.install_encoding_files()  # from the bpe-openai wheel, verified; never downloads
    (figure,) = playground_count.figures(common.TINY)
    assert figure.value > 0


@pytest.mark.skipif(
    not (token_accuracy.REAL / "input-tokens.jsonl").exists(), reason="no real bills here"
)
def test_token_accuracy_figures_compare_local_counts_with_real_bills() -> None:
    tokens.install_encoding_files()
    overall, *kinds = token_accuracy.figures(common.TINY)
    assert 0 < overall.value <= 1 and "bills" in overall.detail
    assert kinds and all(k.name.startswith("  … ") for k in kinds)


def test_the_table_says_pass_or_miss_for_each_figure(capsys: pytest.CaptureFixture[str]) -> None:
    figures = [
        common.at_most("a ratio", 1.5, 2, unit="ratio"),
        common.exactly("a count", 3, 0, detail="3 and 0"),
    ]
    common.print_table(figures)
    lines = capsys.readouterr().out.splitlines()
    assert "pass" in lines[2] and "1.50" in lines[2]
    assert "MISS" in lines[3] and "3 and 0" in lines[3]
