"""The import rule: geodata <- wetlands <- sinks <- ui <- app.py, app_pages/; only ui and the screens import streamlit."""
from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import ROOT

RANK = {"geodata": 0, "wetlands": 1, "sinks": 2, "ui": 3}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_layers_import_downward_only():
    bad = []
    for pkg, rank in RANK.items():
        for f in (ROOT / pkg).rglob("*.py"):
            for name in _imports(f):
                if name in RANK and RANK[name] > rank:
                    bad.append(f"{f.relative_to(ROOT)} imports {name}")
                if name == "streamlit" and pkg != "ui":
                    bad.append(f"{f.relative_to(ROOT)} imports streamlit")
    assert not bad, bad


def test_rule_detects_a_violation(tmp_path):
    f = tmp_path / "x.py"
    f.write_text("from sinks.pipeline import run_assessment\nimport streamlit as st\n")
    assert _imports(f) == {"sinks", "streamlit"}


def test_screens_only_draw():
    """Screens call ui helpers and draw: no arithmetic or file parsing libraries in app_pages/."""
    heavy = {"numpy", "pandas", "geopandas", "rasterio", "pyogrio", "shapely", "geodata", "wetlands"}
    bad = [f"{f.name} imports {n}" for f in (ROOT / "app_pages").glob("*.py") for n in _imports(f) & heavy]
    assert not bad, bad
    assert not (ROOT / "pages").exists(), "a pages/ folder turns on Streamlit's legacy multipage mode"
