"""The README's examples name the run folders that the example configs really make."""

from __future__ import annotations

import re
from pathlib import Path

from mlplab.assemble import as_config
from mlplab.runs.record import run_dir_of

ROOT = Path(__file__).resolve().parents[1]


def test_every_run_folder_the_readme_names_for_an_example_is_that_examples():
    names = {}
    for path in sorted((ROOT / "examples").glob("*.yaml")):
        run_dir = run_dir_of(as_config(path))
        names[run_dir.parent.name] = run_dir.name
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    named = re.findall(r"runs/([\w-]+)/([\w-]+-[0-9a-f]{6})\b", readme)
    checked = [(exp, folder) for exp, folder in named if exp in names]
    assert len(checked) >= 3, "the README names no example run folder"
    wrong = sorted({f"runs/{e}/{f}" for e, f in checked if f != names[e]})
    assert not wrong, f"not the examples' run folders ({names}): {wrong}"
