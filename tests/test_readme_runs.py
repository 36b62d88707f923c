"""The README's examples name the run folders that the example configs really make."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

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


def test_the_readmes_first_printout_is_what_the_lab_prints(tmp_path, run_cli):
    """The opening example's step costs, Hypothesis and closing line, against a real run.

    To 1e-6: BLAS on another CPU may round float32 sums in another order."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split("```console\n$ mlplab train --config examples/xor_nn.yaml\n")[1]
    block = block.split("```")[0]
    proc = run_cli("train", "--config", ROOT / "examples/xor_nn.yaml", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr

    def costs(text: str) -> dict[int, float]:
        return {int(s): float(c) for s, c in re.findall(r"^(\d+) ([\d.e-]+)$", text, re.M)}

    shown, printed = costs(block), costs(proc.stdout)
    assert len(shown) >= 6 and set(shown) <= set(printed)
    for step, cost in shown.items():
        assert abs(cost - printed[step]) <= 1e-6 * cost, (step, cost, printed[step])

    def hypothesis(text: str) -> list[float]:
        return [
            float(v)
            for v in re.findall(r"[\d.]+", text.split("Hypothesis:")[1].split("Correct")[0])
        ]

    assert hypothesis(block) == pytest.approx(hypothesis(proc.stdout), abs=1e-6)
    assert block.splitlines()[-1] in proc.stdout  # the record line, with its folder
    assert block.splitlines()[0] in proc.stdout  # the opening line says what follows it


def test_the_readmes_backprop_printout_is_what_backprop_prints(run_cli):
    """Each quantity the README shows: its formula line and its values, against a real trace.

    The "max diff" figures are left out: they are float32 rounding against float64, and
    another CPU's BLAS rounds in another order."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split("```text\nmlplab backprop: step 0")[1].split("```")[0]
    proc = run_cli("backprop", ROOT / "examples/xor_nn.yaml")
    assert proc.returncode == 0, proc.stderr

    def quantities(text: str) -> dict[str, tuple[str, list[float]]]:
        found = {}
        for m in re.finditer(
            r"^([\w']+) +(\[[\d, ]*\]) +(.*?)   max diff [\d.e+-]+ ok( {3}\(.*\))?\n((?: {10}.*\n)*)",
            text,
            re.M,
        ):
            # The formula, with what the line adds after its check (the lab's cost).
            found[m[1]] = (
                f"{m[2]} {m[3]}{m[4] or ''}",
                [float(v) for v in re.findall(r"-?\d+\.\d+", m[5])],
            )
        return found

    shown, printed = quantities(block), quantities(proc.stdout)
    assert len(shown) >= 10 and sum(bool(v) for _, v in shown.values()) >= 3
    # Y_pred' and a1' too: a name with a prime was passed over, and a wrong value with it.
    assert {"Y_pred'", "a1'"} <= set(shown)
    for name, (formula, values) in shown.items():
        assert printed[name][0] == formula, name
        if values:  # the README elides some quantities' values
            assert values == pytest.approx(printed[name][1], abs=1e-6), name
    verdict = re.search(r"^verdict: ok, all (\d+) checked", proc.stdout, re.M)
    assert verdict and f"verdict: ok, all {verdict[1]} checked" in block


def test_the_readmes_lecture_form_lines_are_what_backprop_prints(run_cli):
    """The README's --form lecture lines, each a line of the command it names, up to the
    "max diff" figure (rounding, which another CPU's BLAS does in another order)."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split("--form lecture --dtype float64   # the slide's formulas")[1]
    block = block.split("  ```text\n", 1)[1].split("  ```", 1)[0]
    proc = run_cli("backprop", ROOT / "examples/xor_nn.yaml", "--form", "lecture",
                   "--dtype", "float64")  # fmt: skip
    assert proc.returncode == 0, proc.stderr

    def lines(text: str) -> set[str]:
        return {re.sub(r"max diff \S+", "max diff", line.strip()) for line in text.splitlines()}

    shown = lines(block) - {"..."}
    assert len(shown) >= 8 and any(line.startswith("new_b1 ") for line in shown)
    assert not shown - lines(proc.stdout), shown - lines(proc.stdout)


def test_the_readmes_predict_example_names_the_folder_its_train_line_makes():
    """The predict lines use the balanced `fraud.csv` run by its folder: the flags' hash."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    line = re.search(r"^mlplab train --data fraud\.csv .*--class_weight balanced.*$", readme, re.M)
    assert line, "the README's rare-class example is gone"
    words = line[0].split()[2:]
    settings = {k[2:]: v for k, v in zip(words[::2], words[1::2], strict=True)}
    folder = run_dir_of(as_config(settings)).as_posix()
    predicted = set(re.findall(r"^mlplab predict (\S+) --data new_rows\.csv", readme, re.M))
    assert predicted == {folder}, (predicted, folder)
    assert f"-> {folder}" in readme
