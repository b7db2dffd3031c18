"""DESIGN.md's flow, client → schemas → store → pages → views → templates, held by the imports.

Read from the source with `ast`, so an import anywhere in a module counts, at the top or inside
a function; one under `if TYPE_CHECKING:` names a type only and does not. The rules:

- The view layer takes the request and builds URLs: only it imports `django.urls` or
  `django.shortcuts` (access.py renders its 403 page). Its modules are DESIGN.md's line
  "views.py, urls.py, forms.py, templatetags/ (pure), management/commands/" less the template
  tags, plus access.py and admin.py.
- Only client.py speaks HTTP (httpx); only the code that fetches (the store, the playground's
  API counts) and the view layer import the client.
- Only the view layer calls pages.py (and spend_pages.py, the data of /runs/ and /overview/).
- Pure presentation (rendering.py, the template tags, transcript.py, trace.py, charts.py)
  reaches neither the ORM, the store, notes, the list's queries, pages, the client nor the
  request, however indirectly: templates only display what the view gave them.
- No two modules import each other at load time, however indirectly.
"""

import ast
from pathlib import Path

import pytest

APP = Path(__file__).resolve().parent.parent / "inspector"

VIEW_LAYER = (
    "inspector.views",
    "inspector.urls",
    "inspector.forms",
    "inspector.access",
    "inspector.admin",
    "inspector.management",
)
FETCHERS = ("inspector.store", "inspector.playground")
PURE = (
    "inspector.rendering",
    "inspector.problems",
    "inspector.outline",
    "inspector.templatetags.inspector",
    "inspector.templatetags.charts",
    "inspector.transcript",
    "inspector.trace",
    "inspector.charts",
)
#: The modules that gather a page's data from the store.
PAGES = ("inspector.pages", "inspector.spend_pages")
#: What pure presentation never reaches: the ORM and what reads or writes it, the client,
#: the request and its URLs.
NOT_PURE = (
    "inspector.models",
    "inspector.store",
    "inspector.notes",
    "inspector.listing",
    "inspector.audit",
    "inspector.pages",
    "inspector.spend_pages",
    "inspector.views",
    "inspector.client",
    "inspector.playground",
    "django.db",
    "django.http",
    "django.urls",
    "django.shortcuts",
    "httpx",
)


def within(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == prefix or name.startswith(prefix + ".") for prefix in prefixes)


def module_name(path: Path) -> str:
    parts = list(path.relative_to(APP.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in sorted(APP.rglob("*.py"))}


def _type_checking(node: ast.AST) -> bool:
    test = getattr(node, "test", None)
    return isinstance(node, ast.If) and (
        (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING")
        or (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")
    )


def imports_of(
    source: str, name: str, is_package: bool = False, top_only: bool = False
) -> set[str]:
    """The modules `source` (the module `name`) imports; `top_only`: those run at load time."""
    package = name if is_package else name.rpartition(".")[0]
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if _type_checking(node):
            return
        if top_only and isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            return
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join([*anchor, *([node.module] if node.module else [])])
            # A package the module is in is loaded before the module: `from . import x` (or
            # `from .. import x`) there imports x, not the package around it once more.
            if not name.startswith(base + "."):
                found.add(base)
            # `from . import store`: a module of the app, not only a name in a package.
            found.update(f"{base}.{a.name}" for a in node.names if f"{base}.{a.name}" in MODULES)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(source))
    return found


def imports(name: str, top_only: bool = False) -> set[str]:
    path = MODULES[name]
    return imports_of(path.read_text(), name, path.name == "__init__.py", top_only)


def reached(name: str) -> set[str]:
    """Every module importing `name` runs or loads, however indirectly (app modules followed,
    with the packages around them)."""
    seen: set[str] = set()
    todo = [name]
    while todo:
        current = todo.pop()
        for imported in imports(current):
            if imported in seen:
                continue
            seen.add(imported)
            if imported in MODULES:
                todo.append(imported)
            parent = imported.rpartition(".")[0]
            if parent in MODULES and parent not in seen:
                seen.add(parent)
                todo.append(parent)
    return seen


def importers(prefixes: tuple[str, ...]) -> set[str]:
    return {name for name in MODULES if any(within(i, prefixes) for i in imports(name))}


def test_the_checker_sees_imports_in_functions_but_not_those_for_types_only():
    source = """
from typing import TYPE_CHECKING
from . import rendering
from .schemas.base import Unknown
if TYPE_CHECKING:
    from .client import APIError
def later():
    from django.urls import reverse
"""
    found = imports_of(source, "inspector.pages")
    assert {"inspector.rendering", "inspector.schemas.base", "django.urls"} <= found
    assert "inspector.client" not in found
    assert "django.urls" not in imports_of(source, "inspector.pages", top_only=True)
    # The package around the module is loaded first: not an import of its own.
    assert "inspector" not in imports_of("from .. import rendering", "inspector.templatetags.x")
    assert "inspector.store" in imports_of("from .store import x", "inspector.pages")
    assert "inspector.rendering" in imports_of(
        "from .. import rendering", "inspector.templatetags.x"
    )


def test_the_layers_name_modules_that_exist():
    for name in (*PURE, *PAGES, "inspector.client", "inspector.views"):
        assert name in MODULES


def test_only_the_view_layer_imports_django_urls_or_shortcuts():
    assert {
        n for n in importers(("django.urls", "django.shortcuts")) if not within(n, VIEW_LAYER)
    } == set()


def test_only_the_client_speaks_http():
    assert importers(("httpx",)) == {"inspector.client"}


def test_only_the_code_that_fetches_and_the_view_layer_import_the_client():
    users = importers(("inspector.client",))
    assert {n for n in users if not within(n, FETCHERS + VIEW_LAYER)} == set()


def test_only_the_view_layer_calls_pages():
    assert {n for n in importers(PAGES) if not within(n, VIEW_LAYER)} == set()


@pytest.mark.parametrize("name", PURE)
def test_pure_presentation_reaches_no_store_orm_client_or_request(name):
    assert {m for m in reached(name) if within(m, NOT_PURE)} == set()


def test_no_two_modules_import_each_other_at_load_time():
    graph = {name: imports(name, top_only=True) & MODULES.keys() - {name} for name in MODULES}

    def cycle_from(start: str) -> list[str] | None:
        path, on_path, done = [start], {start}, set()

        def walk(node: str) -> list[str] | None:
            for nxt in sorted(graph[node]):
                if nxt in on_path:
                    return [*path[path.index(nxt) :], nxt]
                if nxt in done:
                    continue
                path.append(nxt)
                on_path.add(nxt)
                if found := walk(nxt):
                    return found
                on_path.discard(path.pop())
                done.add(nxt)
            return None

        return walk(start)

    assert [c for name in MODULES if (c := cycle_from(name))] == []
