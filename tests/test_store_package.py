"""The store is a package of one module per concern: each imports on its own, none imports
another in a circle, and every `store.<name>` its callers write still resolves."""

import ast
import graphlib
import os
import pkgutil
import re
import subprocess
import sys
from pathlib import Path

import pytest

from inspector import store

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = Path(store.__file__).parent
SUBMODULES = sorted(module.name for module in pkgutil.iter_modules([str(PACKAGE)]))

#: Loads one submodule and what it imports, in a fresh interpreter, without the package's
#: __init__ (which imports every submodule, and so would hide the order one of them needs).
ALONE = """
import importlib, importlib.util, sys
import django
django.setup()
assert "inspector.store" not in sys.modules
spec = importlib.util.find_spec("inspector.store")
sys.modules["inspector.store"] = importlib.util.module_from_spec(spec)
importlib.import_module("inspector.store." + sys.argv[1])
"""


def test_the_store_has_its_modules():
    assert {"rows", "fetch", "bundles", "imports", "chains", "tool_call_index"} <= set(SUBMODULES)


@pytest.mark.parametrize("name", SUBMODULES)
def test_each_store_module_imports_on_its_own_in_a_fresh_interpreter(name):
    done = subprocess.run(
        [sys.executable, "-c", ALONE, name],
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "dashboard.settings"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr


def sibling_imports(path: Path) -> set[str]:
    """The store modules `path` imports (`from .x import …`, `from . import x`)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            if node.module:
                found.add(node.module.split(".")[0])
            else:
                found.update(alias.name for alias in node.names)
    return found & set(SUBMODULES)


def test_no_store_module_imports_another_in_a_circle():
    graph = {name: sibling_imports(PACKAGE / f"{name}.py") for name in SUBMODULES}
    graphlib.TopologicalSorter(graph).prepare()  # raises CycleError on a circle


def test_every_name_the_package_exports_resolves():
    assert store.__all__ and len(set(store.__all__)) == len(store.__all__)
    for name in store.__all__:
        assert getattr(store, name) is not None, name


def test_every_store_name_written_outside_the_package_resolves():
    written: set[str] = set()
    for folder in ("inspector", "bench", "tests", "dashboard"):
        for path in (ROOT / folder).rglob("*.py"):
            if PACKAGE not in path.parents:
                written.update(re.findall(r"\bstore\.([A-Za-z_]\w*)", path.read_text()))
    assert {"fetch_response", "ImportReport", "import_lines", "save_bundle"} <= written
    missing = sorted(name for name in written if not hasattr(store, name))
    assert missing == []
