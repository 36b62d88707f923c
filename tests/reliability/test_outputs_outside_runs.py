"""What a command writes never lands in another run's folder: plot --out, backprop --plot,
report --out and a log_path inside a run are one line, exit 2, and change no file there.

Before, `mlplab plot RUN_A --out RUN_B/plots` replaced RUN_B's pictures, `backprop --plot`
overwrote a run's network.png, `report --out RUN` wrote its tables into a run folder, and
`train --log_path RUN` made a run inside a run; only `predict --out` was refused."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from conftest import EXAMPLES, assert_one_line_error
from mlplab.runner import train


def digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    log = tmp_path_factory.mktemp("runs")
    common = dict(epoch=3, log_path=str(log), verbose=False, plots="png")
    a = train(data="xor", hid_dim=4, exp_name="a", **common).run_dir
    b = train(data="moons", hid_dim=4, exp_name="b", **common).run_dir
    return log, a, b


@pytest.mark.parametrize(
    "args",
    [
        lambda a, b: ["plot", a, "--out", b / "plots"],
        lambda a, b: ["plot", a, "--out", b / "checkpoints" / "new"],
        lambda a, b: ["backprop", EXAMPLES / "and_perceptron.yaml", "--plot", b / "plots" / "network.png"],
        lambda a, b: ["report", a.parent.parent, "--exp_name", "a", "--out", b],
        lambda a, b: ["report", b],  # its tables would go into the run folder itself
        lambda a, b: ["train", "--data", "xor", "--epoch", "1", "--log_path", b],
        lambda a, b: ["sweep", "--data", "xor", "--epoch", "1", "--hid_dim", "2", "3", "--log_path", b / "x"],
    ],
    ids=["plot-out", "plot-out-deep", "backprop-plot", "report-out", "report-default", "train", "sweep"],
)  # fmt: skip
def test_nothing_is_written_into_another_runs_folder(runs, run_cli, args):
    _, a, b = runs
    before = digest(b)
    argv = args(a, b)
    proc = run_cli(*argv)
    if argv == ["report", b]:  # no --out given: the line blames the default, not a flag
        line = assert_one_line_error(proc, f"report: {str(b)!r} is a run folder", "give --out")
        assert "report --out" not in line
    else:
        assert_one_line_error(proc, "is inside the run folder", str(b.resolve()))
    assert digest(b) == before


def test_a_run_still_redraws_into_its_own_folder(runs, run_cli):
    _, a, _ = runs
    proc = run_cli("plot", a)
    assert proc.returncode == 0, proc.stderr
    assert (a / "plots" / "loss.png").is_file()
