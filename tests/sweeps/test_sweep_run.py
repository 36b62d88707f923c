"""``sweep(...)`` in-process: normal run records, skipping finished runs, failures, Ctrl-C."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

import mlplab.runner
import mlplab.stacks
from mlplab.errors import ConfigError
from mlplab.runs.record import read_result
from mlplab.sweeps.api import sweep

# Tiny and quick: the NumPy engine, 50 epochs, no plots.
BASE: dict[str, Any] = {
    "data": "ring",
    "n_samples": 300,
    "epoch": 50,
    "engine": "numpy",
    "log_every": 0,
    "plots": "none",
    "lr": 0.1,
}
GRID: dict[str, Any] = {"n_layer": [1, 2], "hid_dim": [4, 8], "seed": [0, 1]}


def run(log: Path, **kw: Any):
    # handle_signals=True: an interrupted sweep returns its result, for the tests to read.
    kw.setdefault("handle_signals", True)
    return sweep(BASE, **GRID, log_path=str(log), workers=1, report=False, verbose=False, **kw)


def mtimes(log: Path) -> dict[str, int]:
    return {str(p): p.stat().st_mtime_ns for p in sorted(log.rglob("result.json"))}


def test_sweep_trains_every_config_as_a_normal_run(tmp_path: Path, capsys) -> None:
    log = tmp_path / "runs"
    result = sweep(
        BASE, **GRID, log_path=str(log), workers=1, report=False, verbose=True, progress=False
    )
    assert result.exit_code == 0
    assert result.counts["trained"] == 8
    assert (
        capsys.readouterr()
        .out.strip()
        .startswith("8 runs: 8 trained, 0 skipped, 0 failed/diverged")
    )
    records = [read_result(d) for d in result.run_dirs]
    assert all(r is not None and r["status"] == "finished" for r in records)
    assert {(r["n_layer"], r["hid_dim"], r["seed"]) for r in records} == {
        (n, h, s) for n in (1, 2) for h in (4, 8) for s in (0, 1)
    }
    for d in result.run_dirs:  # a full run record each
        assert (d / "config.yaml").is_file() and (d / "metrics.csv").is_file()
        assert (d / "checkpoints" / "last.safetensors").is_file()
    spec = yaml.safe_load(result.spec_path.read_text())
    assert result.spec_path.parent == log / "exp"
    assert spec["axes"] == {"n_layer": [1, 2], "hid_dim": [4, 8], "seed": [0, 1]}
    assert spec["base"]["data"] == "ring" and spec["search"] == "grid"
    assert sorted(spec["runs"]) == sorted(d.name for d in result.run_dirs)


def test_rerun_skips_finished_and_redoes_missing_or_failed(tmp_path: Path) -> None:
    log = tmp_path / "runs"
    first = run(log)
    before = mtimes(log)

    again = run(log)
    assert again.counts == {**again.counts, "trained": 0, "skipped": 8}
    assert mtimes(log) == before  # nothing was touched

    deleted, failed = first.run_dirs[0], first.run_dirs[1]
    shutil.rmtree(deleted)
    rec = json.loads((failed / "result.json").read_text())
    (failed / "result.json").write_text(json.dumps({**rec, "status": "failed"}))
    third = run(log)
    assert third.counts["trained"] == 2 and third.counts["skipped"] == 6
    assert sorted(o["run_id"] for o in third.outcomes) == sorted([deleted.name, failed.name])
    assert read_result(deleted)["status"] == "finished"
    assert read_result(failed)["status"] == "finished"

    before = mtimes(log)
    forced = run(log, rerun=True)
    assert forced.counts["trained"] == 8 and forced.counts["skipped"] == 0
    after = mtimes(log)
    assert all(after[k] != before[k] for k in before)


def test_a_sweep_says_that_unfinished_runs_continue_from_their_checkpoints(
    tmp_path: Path, capsys
) -> None:
    """As `mlplab train` says it of one run; a sweep continued them without a word."""
    log = tmp_path / "runs"
    first = run(log)
    for d in first.run_dirs[:2]:
        record = read_result(d)
        (d / "result.json").write_text(json.dumps({**record, "status": "failed"}))
    capsys.readouterr()
    sweep(BASE, **GRID, log_path=str(log), workers=1, report=False, verbose=True, progress=False)
    assert (
        "mlplab: 2 unfinished runs (interrupted, killed or failed) continue from their last "
        "checkpoints (--rerun, rerun=True in Python, starts afresh)"
    ) in capsys.readouterr().out


def test_a_run_whose_record_is_unreadable_is_named_before_it_trains_again(
    tmp_path: Path, capsys
) -> None:
    """A result.json cut short says nothing of how its run ended: the sweep trains that run
    afresh, as `mlplab train` does, and says so (it had replaced it without a word)."""
    log = tmp_path / "runs"
    first = run(log)
    damaged = first.run_dirs[2] / "result.json"
    damaged.write_text(damaged.read_text()[:100])
    capsys.readouterr()
    again = run(log)
    assert again.counts["trained"] == 1
    line = f"mlplab: {damaged} cannot be read as a run's record (damaged, or without a status)"
    assert f"{line}; the run there is trained afresh" in capsys.readouterr().err
    assert read_result(damaged.parent)["status"] == "finished"
    # Valid JSON whose status is gone, or no status of a run: named alike.
    for edit in ({"status": "bogus"}, {}):
        record = {k: v for k, v in read_result(damaged.parent).items() if k != "status"}
        damaged.write_text(json.dumps({**record, **edit}))
        assert run(log).counts["trained"] == 1
        assert line in capsys.readouterr().err


def test_bad_value_stops_before_anything_is_written(tmp_path: Path) -> None:
    log = tmp_path / "runs"
    with pytest.raises(ConfigError, match="setting 'lr'"):
        sweep(data="xor", lr=[0.1, -1], log_path=str(log), workers=1, verbose=False)
    with pytest.raises(ConfigError, match="setting 'data'"):
        sweep(data=["xor", "nosuch"], log_path=str(log), workers=1, verbose=False)
    # Was a TypeError ('<' not supported between 'str' and 'int').
    with pytest.raises(ConfigError, match=r"--workers: 'x' is not a whole number \(workers=N"):
        sweep(data="xor", hid_dim=[2, 4], log_path=str(log), workers="x", verbose=False)
    assert not log.exists()


def patch_fit(monkeypatch, fit) -> None:
    """Train stacks with ``fit``: as a stack (mlplab.stacks) and one by one (mlplab.runner)."""
    monkeypatch.setattr(mlplab.stacks, "fit_stack", fit)
    monkeypatch.setattr(mlplab.runner, "fit_stack", fit)


def test_failed_and_diverged_runs_are_recorded(tmp_path: Path, monkeypatch) -> None:
    log = tmp_path / "runs"
    real_fit = mlplab.runner.fit_stack

    def flaky_fit(run, *args, **kw):
        # Whether stacked or retried alone, this config's training crashes.
        if any(c.hid_dim == 8 and c.n_layer == 2 and c.seed == 1 for c in run.cfgs):
            raise RuntimeError("simulated crash")
        return real_fit(run, *args, **kw)

    patch_fit(monkeypatch, flaky_fit)
    result = run(log, no_batch=True)  # one run at a time: a crash pinned on its config
    assert result.counts["failed"] == 1 and result.counts["trained"] == 7
    assert result.exit_code == 1
    bad = next(o for o in result.outcomes if o["status"] == "failed")
    rec = read_result(log / "exp" / bad["run_id"])
    assert rec["status"] == "failed" and "simulated crash" in rec["error"]

    patch_fit(monkeypatch, real_fit)
    fixed = run(log)
    assert fixed.counts["trained"] == 1 and fixed.counts["skipped"] == 7


def test_a_diverged_run_fails_the_sweep_only_when_no_run_is_usable(tmp_path: Path) -> None:
    """A learning rate far too high diverges: recorded and counted, not an error of the
    sweep while another run finished; when every run diverged, nothing usable came out
    and the sweep exits 1 (as `mlplab train` does), saying why in its summary."""

    def wild(lr: list[float]):
        # torch engine: the NumPy engine's overflow RuntimeWarnings are errors under pytest
        return sweep(
            data="sinlog", n_samples=200, lr=lr, hid_dim=4, epoch=30, engine="torch",
            log_every=0, plots="none", log_path=str(tmp_path), exp_name="wild",
            workers=1, report=False, verbose=False,
        )  # fmt: skip

    alone = wild([100.0])
    assert alone.counts["diverged"] == 1 and alone.counts["trained"] == 0
    assert read_result(alone.run_dirs[0])["status"] == "diverged"
    assert alone.exit_code == 1
    assert alone.summary().endswith("every run diverged: lower the lr")

    mixed = wild([100.0, 0.01])  # the diverged run again, and one that finishes
    assert mixed.counts["diverged"] == 1 and mixed.counts["trained"] == 1
    assert mixed.exit_code == 0 and "diverged:" not in mixed.summary()

    # The finished run is skipped now, and still usable: the diverged one alone trains.
    again = wild([100.0, 0.01])
    assert again.counts["diverged"] == 1 and again.counts["skipped"] == 1
    assert again.exit_code == 0


def test_runs_diverged_for_the_targets_scale_point_to_its_note(tmp_path: Path, capsys) -> None:
    """A regression on prices in the millions diverges at any lr: the sweep's note names
    the target's scale, and each run's line, the recap and the summary point to it rather
    than advising the lower lr that only diverged again."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(0)
    df = pd.DataFrame({"x": rng.normal(size=60)})
    df["price"] = 1e6 + 2e5 * df.x
    df.to_csv(tmp_path / "prices.csv", index=False)
    out = sweep(
        data=str(tmp_path / "prices.csv"), lr=[0.1, 0.01], epoch=5, engine="torch",
        log_every=0, plots="none", log_path=str(tmp_path / "runs"), workers=1, report=False,
        progress=False, handle_signals=True,
    )  # fmt: skip
    printed = "".join(capsys.readouterr())
    assert out.counts["diverged"] == 2 and out.exit_code == 1
    assert printed.index("note: the target reaches 1.39e+06") < printed.index("2 runs:")
    assert out.summary().endswith("every run diverged: the note above says why")
    assert [
        o["error"].endswith("the run diverged; the note above says why") for o in out.outcomes
    ] == [True, True]
    assert "lower" not in printed
    # Quiet, no note is printed above: the runs keep their own advice.
    quiet = sweep(
        data=str(tmp_path / "prices.csv"), lr=[0.1], epoch=5, engine="torch", log_every=0,
        plots="none", log_path=str(tmp_path / "runs"), exp_name="q", workers=1,
        report=False, verbose=False,
    )  # fmt: skip
    assert quiet.summary().endswith("every run diverged: lower the lr")
    # standardize_target swept, either order: the note is of the runs that leave the
    # target unscaled, and a scaled run that diverged (lr 50) keeps its lower-lr advice.
    for order in ([True, False], [False, True]):
        both = sweep(
            data=str(tmp_path / "prices.csv"), lr=[0.01, 50.0], standardize_target=order,
            epoch=5, engine="torch", log_every=0, plots="none", log_path=str(tmp_path / "st"),
            exp_name=f"st{order[0]}", workers=1, report=False, progress=False, rerun=True,
        )  # fmt: skip
        assert "note: the target reaches 1.39e+06" in "".join(capsys.readouterr())
        why = {
            (c.standardize_target, c.lr): o["error"]
            for c in both.configs
            for o in both.outcomes
            if o["run_id"] == c.run_id() and o["status"] == "diverged"
        }
        assert why[(False, 0.01)].endswith("the note above says why"), why
        assert "Try a lower lr (now 50" in why[(True, 50.0)], why


def test_a_full_disk_fails_the_stack_without_training_its_runs_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A sweep that filled the disk trained each run of the stack again alone, and every
    record then named the retry's refusal of the 16 MiB free it no longer had, never the
    `No space left on device` that stopped it."""
    import errno

    import mlplab.runs.writer

    def full(path: Any, ckpt: Any) -> None:
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    alone: list[Any] = []
    real_train = mlplab.runner.train
    monkeypatch.setattr(mlplab.runs.writer, "save_checkpoint", full)
    monkeypatch.setattr(
        mlplab.runner, "train", lambda *a, **k: alone.append(a) or real_train(*a, **k)
    )
    out = sweep(BASE, lr=[0.1, 0.2], save_every=1, log_path=str(tmp_path), workers=1,
                report=False, verbose=False)  # fmt: skip
    assert alone == [] and [o["status"] for o in out.outcomes] == ["failed", "failed"]
    for o in out.outcomes:
        assert o["error"].startswith("No space left on device (") and "checkpoints" in o["error"]
        assert read_result(Path(o["run_dir"]))["error"] == o["error"]


def _ctrl_c_at_the_third_stack(monkeypatch) -> Any:
    """Make the third stack the sweep trains raise KeyboardInterrupt; the real fit_stack."""
    real_fit = mlplab.runner.fit_stack
    calls = []

    def interrupted_fit(run, *args, **kw):
        calls.append(run.cfgs[0].run_hash())
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real_fit(run, *args, **kw)

    patch_fit(monkeypatch, interrupted_fit)
    return real_fit


def test_ctrl_c_stops_the_sweep_and_keeps_what_finished(
    tmp_path: Path, monkeypatch, capsys
) -> None:
    log = tmp_path / "runs"
    real_fit = _ctrl_c_at_the_third_stack(monkeypatch)
    result = run(log, no_batch=True)
    assert result.interrupted and result.exit_code == 130
    assert result.counts["trained"] == 2 and result.counts["remaining"] == 6
    # A script's call (handle_signals=True), told as one; `mlplab sweep` says "command".
    assert "6 runs remain. The same sweep() call again trains only" in capsys.readouterr().err
    patch_fit(monkeypatch, real_fit)
    rest = run(log)
    assert rest.counts["trained"] == 6 and rest.counts["skipped"] == 2


def test_ctrl_c_in_python_raises_once_the_sweep_has_said_what_it_kept(
    tmp_path: Path, monkeypatch, capsys
) -> None:
    """sweep() returned on Ctrl-C where train() raises: a notebook's Run All went on to its
    next cells (a report, another sweep) with the sweep half done. It raises now, after the
    line that says what is left, and the same call again continues."""
    log = tmp_path / "runs"
    real_fit = _ctrl_c_at_the_third_stack(monkeypatch)
    with pytest.raises(KeyboardInterrupt, match=r"sweep interrupted by SIGINT: 8 runs: 2 "):
        run(log, no_batch=True, handle_signals=None)
    # In Python there is no command to run again: the line names the call, as the error does.
    err = capsys.readouterr().err
    assert "6 runs remain. The same sweep() call again trains only those." in err
    assert "command" not in err
    patch_fit(monkeypatch, real_fit)
    rest = run(log, handle_signals=None)
    assert rest.counts["trained"] == 6 and rest.counts["skipped"] == 2
    with pytest.raises(ConfigError, match="handle_signals takes None"):
        run(log, handle_signals=False)


@pytest.mark.parametrize(("name", "exit_code"), [("SIGINT", 130), ("SIGTERM", 143)])
def test_an_in_process_sweep_exits_as_train_does_for_the_signal_that_stopped_it(
    tmp_path: Path, monkeypatch, name: str, exit_code: int
) -> None:
    """A real signal to this process while the third stack trains: the stack stops at its
    next step, and the sweep's exit status is 128 + the signal's number, as for `mlplab
    train` and as a scheduler that sent SIGTERM reads it."""
    import signal

    real_fit = mlplab.runner.fit_stack
    calls = []

    def signalled_fit(run, *args, **kw):
        calls.append(1)
        if len(calls) == 3:
            signal.raise_signal(getattr(signal, name))  # the stack's own handler notes it
        return real_fit(run, *args, **kw)

    patch_fit(monkeypatch, signalled_fit)
    result = run(tmp_path / "runs")
    assert result.interrupted and result.stopped_by == name and result.exit_code == exit_code
    assert result.counts["trained"] == 4 and result.counts["interrupted"] == 2
    assert {o["signal"] for o in result.outcomes if o["status"] == "interrupted"} == {name}


def test_an_interrupted_rerun_says_what_running_it_again_does(
    tmp_path: Path, monkeypatch, capsys
) -> None:
    """Ctrl-C during --rerun: the runs it did not reach keep their finished records, so
    "runs remain ... train only those" would be wrong on both counts; the line says what
    the same command, and the command without --rerun, train."""
    log = tmp_path / "runs"
    run(log)
    real_fit = _ctrl_c_at_the_third_stack(monkeypatch)
    result = run(log, no_batch=True, rerun=True)
    err = capsys.readouterr().err
    left = result.counts["remaining"]
    assert result.interrupted and result.counts["trained"] == 2 and left == 6
    assert "remain" not in err and "not finished" not in result.summary()
    assert f"{left} runs were not trained again" in err
    assert "The same sweep() call trains all 8 again; without rerun=True it trains" in err
    # As the line says: every run still has its finished record, so without --rerun
    # nothing is left to train.
    assert sorted(r["status"] for r in map(read_result, result.run_dirs)) == ["finished"] * 8
    patch_fit(monkeypatch, real_fit)
    again = run(log)
    assert again.counts["trained"] == 0 and again.counts["skipped"] == 8


def test_batched_sweep_records_equal_one_run_at_a_time(tmp_path: Path) -> None:
    """Grouped configs train as one stacked model; each record equals training it alone."""
    grid = {"lr": [0.05, 0.2], "mm": [0.0, 0.9], "seed": [0, 1]}
    kw = {"workers": 1, "report": False, "verbose": False}
    stacked = sweep({**BASE, "hid_dim": 8}, **grid, log_path=str(tmp_path / "a"), **kw)
    alone = sweep({**BASE, "hid_dim": 8}, **grid, log_path=str(tmp_path / "b"), no_batch=True, **kw)
    assert stacked.counts["trained"] == alone.counts["trained"] == 8
    for run_dir in stacked.run_dirs:
        a = read_result(run_dir)
        b = read_result(tmp_path / "b" / "exp" / Path(run_dir).name)
        assert a["status"] == b["status"] == "finished"
        assert a["test_acc"] == b["test_acc"]
        assert a["train_losses"] == pytest.approx(b["train_losses"], rel=1e-4)
        assert a["test_loss"] == pytest.approx(b["test_loss"], rel=1e-4)
    # One training, one time: the models of a stack that end together record the same
    # wall time (each record's writing counted for those after it, three times the first).
    times = {read_result(d)["wall_time_s"] for d in stacked.run_dirs}
    assert len(times) == 1, times


def first_event_time(run_dir: Path) -> float:
    from tensorboard.backend.event_processing.event_file_loader import LegacyEventFileLoader

    (path,) = [
        p for p in run_dir.glob("events.out.tfevents.*") if p.stat().st_size
    ]  # resumed: one emptied
    return min(e.wall_time for e in LegacyEventFileLoader(str(path)).Load() if e.summary.value)


@pytest.mark.parametrize("rerun", [False, True], ids=["again", "rerun"])
def test_an_interrupted_run_continues_unless_rerun(tmp_path: Path, rerun: bool) -> None:
    """Run again, a sweep continues an interrupted run from its checkpoint; with --rerun it
    trains it from step 0, as `mlplab train --rerun` does. Both end as an uninterrupted run.
    Two workers: the choice reaches the worker processes."""
    import time

    from mlplab.stacks import train_batched

    grid = {"seed": [0, 1], "epoch": 300}
    whole = sweep(BASE, **grid, log_path=str(tmp_path / "whole"), workers=2, report=False)
    cut = tmp_path / "cut"
    polls = [0]

    def stop_after_100_steps() -> bool:
        polls[0] += 1
        return polls[0] > 100

    stopped = train_batched(
        [{**BASE, "seed": s, "epoch": 300, "log_path": str(cut)} for s in (0, 1)],
        should_stop=stop_after_100_steps,
    )
    assert [r["status"] for r in stopped if r] == ["interrupted", "interrupted"]
    started = time.time()
    again = sweep(BASE, **grid, log_path=str(cut), workers=2, report=False, rerun=rerun)
    assert again.counts["trained"] == 2 and again.exit_code == 0
    for a, b in zip(sorted(again.run_dirs), sorted(whole.run_dirs), strict=True):
        ra, rb = read_result(a), read_result(b)
        assert ra["status"] == "finished" and ra["steps"] == rb["steps"]
        assert ra["train_loss"] == rb["train_loss"] and ra["test_loss"] == rb["test_loss"]
        # Continued: the events before the checkpoint are the first attempt's. Rerun: every
        # event is new.
        assert (first_event_time(a) >= started) == rerun


def test_a_ctrl_c_while_a_stack_draws_its_plots_stops_the_sweep(
    tmp_path: Path, monkeypatch, capsys
) -> None:
    """A real SIGINT that comes once a stack's models have ended, while their plots draw:
    no run takes it as its stop, yet the sweep must stop after this stack rather than
    train the next as if nothing had come. The stack's runs keep their finished records
    and plots; running the sweep again trains the rest."""
    import signal

    import mlplab.plots.run_plots

    real_draw = mlplab.plots.run_plots.draw_run_plots
    calls = []

    def draw_after_a_ctrl_c(*args: Any, **kw: Any) -> list[str]:
        calls.append(1)
        if len(calls) == 1:
            signal.raise_signal(signal.SIGINT)  # the handler in force notes it
        return real_draw(*args, **kw)

    monkeypatch.setattr(mlplab.plots.run_plots, "draw_run_plots", draw_after_a_ctrl_c)
    log = tmp_path / "runs"
    result = run(log, plots="png")
    assert result.interrupted and result.exit_code == 130
    # The first stack (two seeds of one shape) finished, plots and all; six runs remain.
    assert len(calls) == 2 and result.counts["trained"] == 2
    assert result.counts["remaining"] == 6 and "6 runs remain" in capsys.readouterr().err
    for outcome in result.outcomes:
        record = read_result(Path(outcome["run_dir"]))
        assert record["status"] == "finished" and "loss.png" in record["plot_files"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    rest = run(log, plots="none")  # plots are no part of a run's id; none draws quicker
    assert rest.counts["trained"] == 6 and rest.counts["skipped"] == 2


def test_a_report_over_runs_that_are_not_the_sweeps_says_so(tmp_path: Path, capsys) -> None:
    """The closing table of a sweep into the default exp_name ranked earlier runs of other
    data among the sweep's own, without a word."""
    import mlplab

    log = str(tmp_path / "runs")
    mlplab.train(data="moons", epoch=2, log_path=log, verbose=False, plots="none")
    capsys.readouterr()
    sweep(data="xor", hid_dim=[2, 3], epoch=2, log_path=log, workers=1, plots="none")
    out = capsys.readouterr().out
    assert (
        f"mlplab: note: the report covers every run in {tmp_path / 'runs' / 'exp'}, 1 of them "
        "not this sweep's; give the sweep its own --exp_name to report on it alone"
    ) in out
    sweep(
        data="xor", hid_dim=[2, 3], epoch=2, log_path=log, workers=1, plots="none", exp_name="own"
    )
    assert "note: the report covers" not in capsys.readouterr().out


def test_runs_another_sweep_is_training_are_counted_as_its_not_as_skipped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A second sweep on the same folder said `0 trained, N skipped`, which reads as done,
    while another process was still training those runs. With none of them recorded yet
    (an identical sweep started alongside), its report of no runs exited 2: it says that
    no report is written yet, and exits 0."""
    import subprocess
    import sys

    from mlplab.config import make_config
    from mlplab.runs.record import run_name

    log = tmp_path / "runs"
    seeds = [0, 1, 2]
    ids = [run_name(make_config({**BASE, "seed": s, "log_path": str(log)})) for s in seeds]
    holder = subprocess.Popen(  # another process holding the runs' locks, as a sweep does
        [sys.executable, "-c",
         "import sys, time\nfrom mlplab.runs.locks import RunLocks\n"
         "locks = RunLocks(sys.argv[1])\n"
         "assert all(locks.acquire(i) for i in sys.argv[2:])\n"
         "print('held', flush=True)\ntime.sleep(120)",
         str(log / BASE.get("exp_name", "exp")), *ids],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        result = sweep(BASE, seed=seeds, log_path=str(log), workers=1)
    finally:
        holder.kill()
        holder.communicate()
    n = len(seeds)
    assert result.counts["busy"] == n and result.counts["skipped"] == 0
    assert sorted(result.busy) == sorted(ids) and result.outcomes == []
    assert f"0 trained, 0 skipped, 0 failed/diverged, {n} being trained by another process" in (
        result.summary()
    )
    assert result.exit_code == 0 and result.report is None
    out, err = capsys.readouterr()
    assert (
        f"mlplab: no report yet: {n} runs of this sweep are still being trained by another "
        "process; `mlplab report "
    ) in out
    assert "(a sweep that holds them writes it as it ends; mlplab train writes none)" in out
    # What holds them may be an `mlplab train` too; "1 runs are" was said of one.
    assert (
        f"mlplab: {n} runs are being trained by another process (a sweep or mlplab train) on "
        "this log_path; this sweep leaves them to that process"
    ) in err
    assert "0 run records" not in out  # the folder was filling with the other's runs


def test_a_sweep_whose_runs_another_process_still_trains_writes_no_partial_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Two overlapping sweeps at once: the one that ended first wrote results.csv and
    report.html without the runs the other still trained, and exited 0, so that a script
    read a part of the sweep as its whole. It writes none; the sweep that ends last does."""
    import subprocess
    import sys

    from mlplab.config import make_config
    from mlplab.runs.record import run_name

    log = tmp_path / "runs"
    held = run_name(make_config({**BASE, "seed": 2, "log_path": str(log)}))
    folder = log / BASE.get("exp_name", "exp")
    holder = subprocess.Popen(  # another process holding one run's lock, as a sweep does
        [sys.executable, "-c",
         "import sys, time\nfrom mlplab.runs.locks import RunLocks\n"
         "locks = RunLocks(sys.argv[1])\nassert locks.acquire(sys.argv[2])\n"
         "print('held', flush=True)\ntime.sleep(120)", str(folder), held],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        result = sweep(BASE, seed=[0, 1, 2], log_path=str(log), workers=1)
    finally:
        holder.kill()
        holder.communicate()
    assert result.counts["trained"] == 2 and result.busy == [held] and result.report is None
    assert not (folder / "results.csv").exists() and not (folder / "report.html").exists()
    out = capsys.readouterr().out
    assert "no report yet: 1 run of this sweep is still being trained by another process" in out
    # Its lock given back (the other process ended), the same sweep trains it and reports all.
    again = sweep(BASE, seed=[0, 1, 2], log_path=str(log), workers=1)
    assert again.counts["trained"] == 1 and again.counts["skipped"] == 2
    assert len(again.report.runs) == 3 and (folder / "results.csv").is_file()


def test_a_list_sweep_trains_its_rows_reports_them_and_skips_them_again(tmp_path: Path) -> None:
    """The batch of a search of one's own: exactly its rows train, the report ranks them,
    and the same batch again trains nothing (its spec, search: list, is the sweep's)."""
    kw = {**BASE, "log_path": str(tmp_path), "exp_name": "batch", "workers": 1, "verbose": False}
    del kw["lr"]
    res = sweep(search="list", lr=[0.3, 0.03, 0.3], hid_dim=[4, 8, 8], seed=[0, 1], **kw)
    assert res.counts["trained"] == 6
    assert sorted({(c.lr, c.hid_dim) for c in res.configs}) == [(0.03, 8), (0.3, 4), (0.3, 8)]
    assert len(res.report.summary) == 3 and set(res.report.variables) == {"lr", "hid_dim"}
    (spec,) = (tmp_path / "batch").glob("sweep-*.yaml")
    assert yaml.safe_load(spec.read_text())["search"] == "list"
    again = sweep(search="list", lr=[0.3, 0.03, 0.3], hid_dim=[4, 8, 8], seed=[0, 1], **kw)
    assert again.counts["trained"] == 0 and again.counts["skipped"] == 6


def test_a_sweeps_spec_record_given_as_its_config_runs_that_sweep_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """sweep-HASH.yaml given back to `mlplab sweep` was refused (it named base, axes and
    search, to be typed again as flags), and a random search could not be rebuilt from any
    file: it runs that sweep again, from any folder, into the log_path it lies in."""
    log = tmp_path / "runs"
    quiet = {"report": False, "verbose": False, "workers": 1}
    first = sweep({"data": "moons", "epoch": 3, "plots": "none", "exp_name": "rs",
                   "log_path": str(log)}, search="random", trials=3, lr="loguniform:1e-3:1e-1",
                  hid_dim="choice:4:8", **quiet)  # fmt: skip
    assert first.counts["trained"] == 3
    (spec,) = (log / "rs").glob("sweep-*.yaml")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    again = sweep(str(spec), **quiet)
    assert again.counts == {**again.counts, "trained": 0, "skipped": 3}
    assert sorted(again.spec.run_ids) == sorted(first.spec.run_ids)
    assert list((log / "rs").glob("sweep-*.yaml")) == [spec] and not (elsewhere / "runs").exists()
    more = sweep(str(spec), trials=5, **quiet)  # its search, with more trials
    assert more.counts["trained"] == 2 and more.counts["skipped"] == 3
    with pytest.raises(
        ConfigError, match=r"is a sweep's record \(sweep-HASH.yaml\), not one run's"
    ):
        mlplab.load_config(str(spec))  # `mlplab train --config` of it: "'search' is an option"
    with pytest.raises(ConfigError, match="its 'base' or 'axes' is not a mapping"):
        (tmp_path / "bad.yaml").write_text("base: 3\naxes: {}\nruns: []\n")
        sweep(str(tmp_path / "bad.yaml"), **quiet)


def test_a_sweep_file_may_keep_its_search_and_trials(tmp_path: Path) -> None:
    """`search: random` in a sweep's YAML was refused ("an option of mlplab sweep, not a
    setting a file holds"), and a file of distributions alone was told to use --search
    random: a random search could not be kept in files."""
    f = tmp_path / "rs.yaml"
    f.write_text(
        f"data: moons\nepoch: 3\nplots: none\nexp_name: rs\nlog_path: {tmp_path / 'runs'}\n"
        "lr: loguniform:1e-3:1e-1\nhid_dim: choice:4:8\nsearch: random\ntrials: 3\n"
    )
    quiet = {"report": False, "verbose": False, "workers": 1}
    first = sweep(str(f), **quiet)
    assert first.spec.search == "random" and first.counts["trained"] == 3
    assert len({c.lr for c in first.configs}) == 3
    more = sweep(str(f), trials=4, **quiet)  # a flag over the file's
    assert more.counts["trained"] == 1 and more.counts["skipped"] == 3


@pytest.mark.parametrize(
    ("kept", "flags", "said"),
    [
        ("search: random\ntrials: x\n", {}, "rs.yaml: setting 'trials': 'x' is not a whole"),
        ("search: randm\n", {}, "rs.yaml: setting 'search': 'randm' is not one of grid,"),
        ("trials: 3\n", {}, "rs.yaml: setting 'trials' applies only to"),
        ("search: random\ntrials: x\n", {"trials": 0}, "--trials: random search needs"),
    ],
)
def test_a_sweep_files_search_and_trials_are_named_by_the_file(tmp_path, kept, flags, said):
    """`trials: x` in the file was told as "--trials: 'x' ...", a flag never given."""
    f = tmp_path / "rs.yaml"
    f.write_text(f"data: xor\nlr: [0.1, 0.2]\nlog_path: {tmp_path}\n{kept}")
    with pytest.raises(ConfigError) as err:
        sweep(str(f), report=False, verbose=False, **flags)
    before, found, _ = str(err.value).partition(said)
    assert found and (before == "" or before.endswith("/")), str(err.value)  # the file's place
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rs.yaml"]


def test_a_sweeps_record_given_back_trains_only_in_its_own_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given back from its own folder (`cd runs/g && mlplab sweep sweep-x.yaml`), a sweep's
    record trained the whole sweep again in runs/g/g/; a copy elsewhere trained it in a
    folder named as its exp_name beside the copy (/r1 for one in /tmp); a relative data
    path was looked for in the current folder alone."""
    (tmp_path / "t.csv").write_text("a,p\n" + "".join(f"{i},{i % 2}\n" for i in range(40)))
    monkeypatch.chdir(tmp_path)
    quiet = {"report": False, "verbose": False, "workers": 1}
    first = sweep({"data": "t.csv", "target": "p", "epoch": 2, "plots": "none",
                   "exp_name": "g", "hid_dim": [2, 3]}, **quiet)  # fmt: skip
    (spec,) = (tmp_path / "runs" / "g").glob("sweep-*.yaml")
    monkeypatch.chdir(spec.parent)
    with pytest.raises(ConfigError, match=r"its data file 't\.csv' is relative to the folder the "
                       "sweep ran in, '.*', not to this one"):  # fmt: skip
        sweep(spec.name, **quiet)
    again = sweep(spec.name, data=str(tmp_path / "t.csv"), dry_run=True, **quiet)
    assert again.spec.base["log_path"] == str(tmp_path / "runs")
    monkeypatch.chdir(tmp_path)
    assert sweep(str(spec), **quiet).counts["skipped"] == 2
    (tmp_path / "copy.yaml").write_bytes(spec.read_bytes())
    with pytest.raises(ConfigError, match=r"copy\.yaml: a sweep's record of exp_name 'g' lies in"):
        sweep("copy.yaml", **quiet)
    with pytest.raises(ConfigError, match=r"copy\.yaml: a sweep's record of exp_name 'g'"):
        sweep("copy.yaml", exp_name="h", **quiet)  # a new name alone does not say where
    (tmp_path / "link").symlink_to(spec.parent)  # its folder through a link: its own
    assert sweep(str(tmp_path / "link" / spec.name), **quiet).counts["skipped"] == 2
    (tmp_path / "link").unlink()
    moved = sweep("copy.yaml", log_path="runs", **quiet)  # told where: its folder's runs
    assert moved.counts["skipped"] == 2 and moved.spec.run_ids == first.spec.run_ids
    assert sorted(p.name for p in tmp_path.iterdir()) == ["copy.yaml", "runs", "t.csv"]
    assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == ["g"]


def test_a_flag_of_search_wins_over_a_files_or_records_search(tmp_path: Path) -> None:
    """`--search grid`, the default's value, was taken for no flag: over a file's `search:
    list` it ran the list, and over a random record its trials were refused."""
    f = tmp_path / "l.yaml"
    f.write_text(f"data: xor\nsearch: List\nlr: [0.1, 0.5]\nhid_dim: [2, 3]\nepoch: 2\n"
                 f"plots: none\nlog_path: {tmp_path}\n")  # fmt: skip
    quiet = {"report": False, "verbose": False, "workers": 1, "dry_run": True}
    assert len(sweep(str(f), **quiet).configs) == 2  # its list, in any case
    assert len(sweep(str(f), search="grid", **quiet).configs) == 4
    f.write_text(f"data: xor\nsearch: random\ntrials: 3\nlr: [0.1, 0.5]\nhid_dim: [2, 3]\n"
                 f"epoch: 2\nplots: none\nlog_path: {tmp_path}\n")  # fmt: skip
    assert len(sweep(str(f), **quiet).configs) == 3
    assert len(sweep(str(f), search="list", **quiet).configs) == 2  # its trials left
    assert len(sweep(str(f), search="random", **quiet).configs) == 3  # its trials kept
    # Given to train, the file is said to be a sweep's, not that a file holds no search.
    with pytest.raises(ConfigError, match=r"l\.yaml: 'search' is kept by a sweep's file, which"):
        mlplab.load_config(str(f))
    # In Python, not "a setting a file holds", which a sweep's file now may.
    with pytest.raises(ConfigError, match=r"^'trials' is an option of mlplab\.sweep\(\) \(or a"):
        mlplab.Config(trials=3)


# As root, a folder of mode 555 is still written: the process gives up the capabilities
# that let root write any folder, and meets the permissions.
NO_ROOT_WRITES = [
    *("setpriv", "--inh-caps=-dac_override,-dac_read_search"),
    "--bounding-set=-dac_override,-dac_read_search",
]

READ_ONLY_MID_SWEEP = """
import json, os, sys
import mlplab
from mlplab.training.events import Validate

log, made = sys.argv[1], []

def first_read_only(event):  # the first run's folder made read-only mid-training
    if isinstance(event, Validate) and event.epoch >= 100 and not made:
        made.append(event.models.name(int(event.models.ids[0])))
        os.chmod(os.path.join(log, "g", made[0]), 0o555)

out = mlplab.sweep(
    {"data": "xor", "hid_dim": 8, "epoch": 300, "log_every": 0, "plots": "none",
     "exp_name": "g", "lr": [0.1, 0.2, 0.3], "save_every": 50, "log_path": log},
    workers=1, subscribers=[first_read_only], report=False, verbose=False,
)
print(json.dumps({"made": made, "outcomes": out.outcomes}))
"""


def test_a_run_folder_made_read_only_mid_sweep_fails_that_run_alone(tmp_path: Path) -> None:
    """Its stack-mates were recorded failed with the other run's scratch file in their
    error, and the sweep stopped at that run with exit 2, before they trained again."""
    import os
    import subprocess
    import sys

    if os.geteuid() == 0 and shutil.which("setpriv") is None:
        pytest.skip("as root, a folder of mode 555 is written without setpriv")
    prefix = NO_ROOT_WRITES if os.geteuid() == 0 else []
    proc = subprocess.run(
        [*prefix, sys.executable, "-c", READ_ONLY_MID_SWEEP, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    try:
        assert proc.returncode == 0, proc.stderr
        said = json.loads(proc.stdout.strip().splitlines()[-1])
        (locked,) = said["made"]
        by_id = {o["run_id"]: o for o in said["outcomes"]}
        assert len(by_id) == 3 and by_id[locked]["status"] == "failed"
        assert "cannot be written (Permission denied)" in by_id[locked]["error"]
        for run_id, o in by_id.items():
            if run_id != locked:  # trained to its end, its record its own
                assert o["status"] == "finished", o
                record = read_result(tmp_path / "g" / run_id)
                assert record["status"] == "finished" and record["epochs_run"] == 300
    finally:
        for folder in (tmp_path / "g").iterdir():
            folder.chmod(0o755)  # for pytest's clean-up


def test_the_interrupted_line_speaks_as_the_command_or_the_call_that_ran_the_sweep() -> None:
    from mlplab.sweeps.api import SweepResult, _interrupted_line

    def line(rerun: bool, in_python: bool) -> str:
        result = SweepResult(None, [None] * 8, [], [], Path("s.yaml"), rerun=rerun)  # type: ignore[arg-type]
        result.counts = {"remaining": 6}
        return _interrupted_line(result, in_python)

    assert line(False, False).endswith(
        "6 runs remain. Run the same command again to train only those."
    )
    assert line(False, True).endswith(
        "6 runs remain. The same sweep() call again trains only those."
    )
    assert line(True, False).endswith(
        "The same command trains all 8 again; without --rerun it trains only the runs that "
        "have not finished."
    )
    assert "without rerun=True" in line(True, True) and "remain" not in line(True, True)
