"""The code's shape: no module imports another package's private names."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "mlplab"


def _package(module: str) -> str:
    """``mlplab.training.loop`` -> ``mlplab.training``; top-level modules are their own."""
    parts = module.split(".")
    return ".".join(parts[:2])


def test_no_module_imports_a_private_name_of_another_package():
    offenders = []
    for path in SRC.rglob("*.py"):
        rel = path.relative_to(SRC.parent).with_suffix("")
        here = ".".join(rel.parts).removesuffix(".__init__")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                if not node.module.startswith("mlplab"):
                    continue
                private = [
                    a.name
                    for a in node.names
                    if a.name.startswith("_") and not a.name.startswith("__")
                ]
                if private and _package(node.module) != _package(here):
                    offenders.append(f"{here}: from {node.module} import {', '.join(private)}")
    assert not offenders, offenders
