"""A sweep's progress moves while its stacks train, not only as their runs end: the bar on
a terminal, and off one a line for each quarter of the epochs, in worker processes too."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import rich.progress

import mlplab.console
from mlplab.sweeps import api
from mlplab.sweeps.api import sweep

# One shape: the configs of a grid over seeds train as one stack.
BASE: dict[str, Any] = {
    "data": "ring",
    "n_samples": 200,
    "epoch": 20,
    "engine": "numpy",
    "log_every": 0,
    "plots": "none",
    "lr": 0.1,
}


def test_the_bar_follows_the_epochs_of_the_stack_in_training(tmp_path: Path, monkeypatch) -> None:
    """The bar stood at 0/3 until the one stack ended: no sign of life, no time left."""
    monkeypatch.setattr(mlplab.console, "interactive", lambda: True)
    seen: list[tuple[float, float | None, Any]] = []  # completed, total, runs ended
    update = rich.progress.Progress.update

    def watched(self: rich.progress.Progress, task_id: Any, **kw: Any) -> None:
        update(self, task_id, **kw)
        task = self._tasks[task_id]
        seen.append((task.completed, task.total, task.fields.get("runs")))

    monkeypatch.setattr(rich.progress.Progress, "update", watched)
    result = sweep(BASE, seed=[0, 1, 2], log_path=str(tmp_path), workers=1, report=False)
    assert result.counts["trained"] == 3
    total = 3 * BASE["epoch"]
    assert {t for _, t, _ in seen} == {total}
    # While no run had ended, the bar moved with the stack's epochs, in several steps.
    moving = [done for done, _, runs in seen if runs == 0 and 0 < done < total]
    assert len(set(moving)) >= 4 and moving == sorted(moving)
    assert seen[-1] == (total, total, 3)


def test_off_a_terminal_a_quiet_sweep_says_each_quarter_of_its_epochs(
    tmp_path: Path, monkeypatch, capsys
) -> None:
    """In a log, only lines as runs end, which all come at the stack's end. A line per
    quarter of the epochs comes only once nothing was printed for QUIET_S seconds."""
    run = {"seed": [0, 1, 2], "log_path": str(tmp_path), "workers": 1, "report": False}
    sweep(BASE, **run)
    assert "epochs trained" not in capsys.readouterr().out  # a quick sweep: no more lines
    monkeypatch.setattr(api._Progress, "QUIET_S", 0.0, raising=False)
    sweep(BASE, **run, rerun=True)
    lines = capsys.readouterr().out.splitlines()
    said = [line for line in lines if "epochs trained" in line]
    assert [line.split(" (")[0] for line in said] == [
        f"[0/3] {pct}% of the sweep's epochs trained" for pct in (25, 50, 75)
    ]
    first_run = next(i for i, line in enumerate(lines) if line.startswith("[1/3] "))
    assert lines.index(said[-1]) < first_run


def test_off_a_terminal_a_silent_sweep_says_how_far_it_is_and_how_long_is_left(
    tmp_path: Path, monkeypatch, capsys
) -> None:
    """A 2-hour sweep's log had a line each half hour (its quarters), which a CI service
    that stops a job silent for 10 minutes cut short, and never a time left."""
    import re

    monkeypatch.setattr(api._Progress, "QUIET_S", 1e9, raising=False)  # no quarter lines
    monkeypatch.setattr(api._Progress, "HEARTBEAT_S", 0.0, raising=False)
    sweep(BASE, seed=[0, 1, 2], log_path=str(tmp_path), workers=1, report=False)
    lines = capsys.readouterr().out.splitlines()
    said = [m for line in lines if (m := re.fullmatch(
        r"\[0/3\] (\d+)% of the sweep's epochs trained \((\d+) s, about (\d+) s left\)", line
    ))]  # fmt: skip
    pcts = [int(m.group(1)) for m in said]
    assert len(pcts) >= 5 and pcts == sorted(pcts) and pcts[0] > 0 and pcts[-1] < 100, lines
    assert not {25, 50, 75} >= set(pcts)  # not the quarters alone


def test_worker_processes_tell_the_sweep_how_far_their_stacks_have_trained(
    tmp_path: Path, monkeypatch, capsys
) -> None:
    """Two stacks in two worker processes: their epochs reach the sweep before their runs'
    outcomes, through each worker's own pipe."""
    monkeypatch.setattr(api._Progress, "QUIET_S", 0.0, raising=False)
    result = sweep(
        BASE, seed=[0, 1, 2, 3], log_path=str(tmp_path), workers=2, group_size=2, report=False
    )
    assert result.counts["trained"] == 4
    lines = capsys.readouterr().out.splitlines()
    first_run = next(i for i, line in enumerate(lines) if line.startswith("[1/4] "))
    # The first stack to end had trained its 2 runs' 20 epochs of the 80: half of them.
    before = [line.split(" (")[0] for line in lines[:first_run] if "epochs trained" in line]
    assert before[:2] == [f"[0/4] {pct}% of the sweep's epochs trained" for pct in (25, 50)]


def test_a_resumed_runs_earlier_epochs_are_no_work_of_this_sweep(capsys) -> None:
    """A run resumed at epoch 15 of 20 counted its 15 as trained the moment it started:
    90% done after 2 s, and "~0.2 s left" for what took minutes."""
    from mlplab.assemble import as_config
    from mlplab.runs.record import run_name

    cfgs = [as_config({**BASE, "seed": s}) for s in (0, 1)]
    ids = [run_name(c) for c in cfgs]
    bar = api._Progress(cfgs, ["seed"], show=True)
    bar.epochs([ids[0]], 15)  # its stack's start: resumed from epoch 15
    bar.epochs([ids[1]], 0)
    assert (bar.epochs_done, bar.all_epochs) == (0, 5 + 20)
    bar.epochs(ids, 18)
    assert bar.epochs_done == 3 + 18
    for run_id in ids:
        bar.done({"run_id": run_id, "status": "finished"})
    assert bar.epochs_done == bar.all_epochs == 25
    # Where no run tells its epochs (on Ray), each counts whole as it ends.
    ray = api._Progress(cfgs, ["seed"], show=True)
    ray.done({"run_id": ids[0], "status": "finished"})
    assert (ray.epochs_done, ray.all_epochs) == (20, 40)
