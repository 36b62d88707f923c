"""Signals at the edges of a sweep in this process. One that comes once every run has
ended (the last stack's plots draw, its subscribers are told) cut nothing short: the sweep
reports success, and says the signal came. One that comes as a run ends with runs still to
train stops the sweep. A second Ctrl-C stops at once, and the result still holds how each
run of the stack it cut short ended.

The signals are real: a subscriber sends them to this process at a run's End, which comes
after the record is written, where the plots draw.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import Any

import pytest

from mlplab.runs.record import read_result
from mlplab.sweeps.api import sweep
from mlplab.training.events import End, Event, Step

BASE: dict[str, Any] = {
    "data": "ring",
    "n_samples": 120,
    "epoch": 4,
    "batch_size": 40,
    "engine": "numpy",
    "log_every": 0,
    "plots": "none",
}
AXES: dict[str, Any] = {"hid_dim": [4, 8], "seed": [0, 1]}  # two stacks of two


def signal_at_end(sig: int, nth: int) -> Any:
    """A subscriber that sends ``sig`` to this process at the ``nth`` End it gets."""
    ends = [0]

    def send(event: Event) -> None:
        if isinstance(event, End):
            ends[0] += 1
            if ends[0] == nth:
                os.kill(os.getpid(), sig)

    return send


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_once_every_run_ended_leaves_a_whole_sweep(
    tmp_path: Path, capsys, sig: int
) -> None:
    """It said "sweep interrupted; 0 runs remain. Run the same command again to train
    only those.", exited 130 (143) and wrote no report."""
    name = signal.Signals(sig).name
    result = sweep(BASE, log_path=str(tmp_path), workers=1, handle_signals=True,
                   subscribers=[signal_at_end(sig, 2)], **AXES)  # fmt: skip
    assert not result.interrupted and result.exit_code == 0 and result.stopped_by == name
    assert result.counts["trained"] == 4 and result.counts["remaining"] == 0
    assert result.report is not None and (tmp_path / "exp" / "report.html").is_file()
    err = capsys.readouterr().err
    assert "interrupted" not in err
    assert f"mlplab: {name} came as the sweep ended: every run had ended" in err
    assert all(read_result(d)["status"] == "finished" for d in result.run_dirs)


def test_in_a_script_the_late_ctrl_c_still_stops_it_once_the_sweep_is_whole(
    tmp_path: Path,
) -> None:
    """As train() raises for a Ctrl-C that came as its run ended: the script stops, and
    the message says the sweep is whole."""
    with pytest.raises(KeyboardInterrupt, match="SIGINT came as the sweep ended: every run"):
        sweep(BASE, log_path=str(tmp_path), workers=1, verbose=False,
              subscribers=[signal_at_end(signal.SIGINT, 2)], **AXES)  # fmt: skip
    assert (tmp_path / "exp" / "report.html").is_file()
    records = [read_result(d) for d in (tmp_path / "exp").iterdir() if d.is_dir()]
    assert [r["status"] for r in records] == ["finished"] * 4


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_as_the_worker_processes_close_leaves_a_whole_sweep(
    tmp_path: Path, monkeypatch, capsys, sig: int
) -> None:
    """`kill -TERM` 0.1 s after a sweep's last run ended came as its workers were reaped:
    'mlplab: interrupted', exit 130 (for SIGTERM too), and no report, every run finished."""
    from mlplab.sweeps import local

    close = local._Worker.close
    sent = []

    def close_on_a_signal(self: Any) -> None:
        if not sent:
            sent.append(sig)  # before the signal, whose handler raises at once
            os.kill(os.getpid(), sig)
        close(self)

    monkeypatch.setattr(local._Worker, "close", close_on_a_signal)
    result = sweep(BASE, log_path=str(tmp_path), workers=2, handle_signals=True, **AXES)
    name = signal.Signals(sig).name
    assert sent and not result.interrupted and result.exit_code == 0
    assert result.stopped_by == name and result.counts["trained"] == 4
    assert (tmp_path / "exp" / "report.html").is_file()
    assert f"mlplab: {name} came as the sweep ended" in capsys.readouterr().err


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_as_the_report_is_written_names_the_command_that_writes_it(
    tmp_path: Path, monkeypatch, capsys, sig: int
) -> None:
    """A signal while the report was written ended the command as 'mlplab: interrupted',
    exit 130 for SIGTERM too, without saying that every run had finished."""
    import mlplab.reports.api

    write = mlplab.reports.api.report

    def report_on_a_signal(*args: Any, **kwargs: Any) -> Any:
        os.kill(os.getpid(), sig)
        return write(*args, **kwargs)

    monkeypatch.setattr(mlplab.reports.api, "report", report_on_a_signal)
    result = sweep(BASE, log_path=str(tmp_path), workers=1, handle_signals=True, **AXES)
    name = signal.Signals(sig).name
    assert result.interrupted and result.stopped_by == name and result.report is None
    assert result.exit_code == {"SIGINT": 130, "SIGTERM": 143}[name]
    assert result.counts["trained"] == 4 and result.counts["remaining"] == 0
    assert not (tmp_path / "exp" / "report.html").exists()
    err = capsys.readouterr().err
    assert f"mlplab: {name} came as the report was written: every run had ended" in err
    assert f"`mlplab report {tmp_path / 'exp'}` writes it" in err
    monkeypatch.setattr(mlplab.reports.api, "report", write)  # the same call again: no signal
    again = sweep(BASE, log_path=str(tmp_path), workers=1, handle_signals=True, **AXES)
    assert again.counts["skipped"] == 4 and (tmp_path / "exp" / "report.html").is_file()


@pytest.mark.parametrize("swallowed", [False, True])
def test_a_sigterm_once_the_reports_files_are_written_leaves_a_whole_sweep(
    tmp_path: Path, monkeypatch, capsys, swallowed: bool
) -> None:
    """A SIGTERM once the report's files were written (as its table printed) said "the
    report is not written", exit 143. And one whose stop Python dropped (raised in a
    garbage collector's callback: "Exception ignored in ...") was lost: the sweep exited 0
    without a word."""
    import mlplab.reports.api
    from mlplab.sweeps.local import Terminated

    write = mlplab.reports.api.report

    def signal_after_the_files(*args: Any, **kwargs: Any) -> Any:
        report = write(*args, **kwargs)
        try:
            os.kill(os.getpid(), signal.SIGTERM)
        except Terminated:
            if not swallowed:
                raise
        return report

    monkeypatch.setattr(mlplab.reports.api, "report", signal_after_the_files)
    result = sweep(BASE, log_path=str(tmp_path), workers=1, handle_signals=True, **AXES)
    assert not result.interrupted and result.exit_code == 0 and result.stopped_by == "SIGTERM"
    assert (tmp_path / "exp" / "summary.csv").is_file()
    err = capsys.readouterr().err
    assert "SIGTERM came as the sweep ended: every run had ended" in err
    assert "not written" not in err


def test_a_signal_as_a_run_trained_alone_ends_stops_the_sweep(
    tmp_path: Path, stacked_steps_fail: None
) -> None:
    """A stack that fails trains its runs one by one; a Ctrl-C as the first of them ended
    was taken by that run's own handler and lost: the sweep trained the other three and
    exited 0."""
    result = sweep(BASE, log_path=str(tmp_path), workers=1, report=False, verbose=False,
                   handle_signals=True, subscribers=[signal_at_end(signal.SIGINT, 1)],
                   **AXES)  # fmt: skip
    assert result.interrupted and result.stopped_by == "SIGINT" and result.exit_code == 130
    assert [o["status"] for o in result.outcomes] == ["finished"]
    assert result.counts["remaining"] == 3


def test_a_second_ctrl_c_keeps_the_outcomes_that_the_records_tell(
    tmp_path: Path, monkeypatch
) -> None:
    """A stack of two stopped at once by a second Ctrl-C, one run diverged before it: the
    records said diverged and interrupted, and result.outcomes was empty."""
    import mlplab.runner as run_mod

    monkeypatch.setattr(run_mod, "SAME_STOP_S", 0.0)  # the second comes as a user's would

    def twice(event: Event) -> None:
        if isinstance(event, Step) and event.step == 8:  # lr 1e6 diverged at step 4
            os.kill(os.getpid(), signal.SIGINT)
            os.kill(os.getpid(), signal.SIGINT)  # the handler raises KeyboardInterrupt now

    twice.step_every = 1  # type: ignore[attr-defined]
    result = sweep({**BASE, "epoch": 50}, log_path=str(tmp_path), workers=1, report=False,
                   verbose=False, handle_signals=True, subscribers=[twice], hid_dim=4,
                   lr=[0.1, 1e6], save_every=1)  # fmt: skip
    assert result.interrupted and result.stopped_by == "SIGINT" and result.exit_code == 130
    told = {o["run_id"]: o for o in result.outcomes}
    assert sorted(told) == sorted(d.name for d in result.run_dirs)
    for d in result.run_dirs:
        record = read_result(d)
        assert told[d.name]["status"] == record["status"]
        assert told[d.name]["error"] == record.get("error") or record.get("message")
    assert sorted(o["status"] for o in result.outcomes) == ["diverged", "interrupted"]
    assert result.counts["diverged"] == 1 and result.counts["remaining"] == 1


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
@pytest.mark.parametrize("line", ["summary", "records"])
def test_a_signal_as_the_closing_lines_print_leaves_a_whole_sweep(
    tmp_path: Path, monkeypatch, capsys, sig: int, line: str
) -> None:
    """A Ctrl-C as `mlplab sweep --no_report` printed its summary (every run finished) cut
    off the last line with 'mlplab: interrupted' and exit 130."""
    from mlplab.sweeps import api

    sent: list[int] = []
    shown = {"summary": api.SweepResult.summary, "records": api._records_line}[line]

    def shown_on_a_signal(*args: Any) -> str:
        if not sent:
            sent.append(sig)
            os.kill(os.getpid(), sig)
        return shown(*args)

    def unheld(signum: int, frame: Any) -> None:  # where the sweep left its own handler
        raise AssertionError(f"{signal.Signals(signum).name} reached the caller's handler")

    if line == "summary":
        monkeypatch.setattr(api.SweepResult, "summary", shown_on_a_signal)
    else:
        monkeypatch.setattr(api, "_records_line", shown_on_a_signal)
    before = signal.signal(signal.SIGTERM, unheld)  # not the default, which ends pytest
    try:
        result = sweep(BASE, log_path=str(tmp_path), workers=1, report=False,
                       handle_signals=True, **AXES)  # fmt: skip
    finally:
        signal.signal(signal.SIGTERM, before)
    name = signal.Signals(sig).name
    assert sent and not result.interrupted and result.exit_code == 0
    assert result.stopped_by == name and result.counts["trained"] == 4
    out, err = capsys.readouterr()
    assert "4 run records in" in out  # the last line, after the signal
    assert f"mlplab: {name} came as the sweep ended" in err and "interrupted" not in err


def test_a_second_ctrl_c_as_the_closing_lines_print_stops_at_once(tmp_path, monkeypatch):
    """The closing lines hold a first Ctrl-C (they cut nothing short); a second one, as in
    training, stops at once rather than being noted too."""
    from mlplab.sweeps import api

    summary = api.SweepResult.summary

    def twice(self: Any) -> str:
        os.kill(os.getpid(), signal.SIGINT)
        os.kill(os.getpid(), signal.SIGINT)
        return summary(self)

    monkeypatch.setattr(api.SweepResult, "summary", twice)
    with pytest.raises(KeyboardInterrupt):
        sweep(BASE, log_path=str(tmp_path), workers=1, report=False, handle_signals=True,
              **AXES)  # fmt: skip
    records = [read_result(d) for d in (tmp_path / "exp").iterdir() if d.is_dir()]
    assert [r["status"] for r in records] == ["finished"] * 4


@pytest.mark.parametrize(("name", "code"), [("SIGINT", 130), ("SIGTERM", 143), ("SIGHUP", 129)])
def test_mlplab_sweep_stops_by_sigint_for_a_ctrl_c_that_came_as_it_ended(
    tmp_path: Path, monkeypatch, name: str, code: int
) -> None:
    """A Ctrl-C that came once every run had ended exited 0: a script's loop of sweeps went
    on to its next sweep, where train in the same case stops the script (130, by SIGINT).
    A late SIGTERM exited 0 too, where train exits 143. The records and the report are
    whole either way."""
    from mlplab.cli import main
    from mlplab.sweeps import api

    real = api.sweep

    def ctrl_c_as_it_ended(*args: Any, **kwargs: Any) -> Any:
        result = real(*args, **kwargs)
        result.stopped_by = name  # as _late_stop notes one
        return result

    monkeypatch.setattr(api, "sweep", ctrl_c_as_it_ended)
    argv = ["sweep", "--data", "xor", "--epoch", "3", "--lr", "0.1", "0.2", "--workers", "1",
            "--plots", "none", "--log_path", str(tmp_path), "-q"]  # fmt: skip
    assert main(argv) == code
    assert (tmp_path / "exp" / "report.html").is_file()
    assert sorted(read_result(d)["status"] for d in (tmp_path / "exp").glob("exp-*")) == [
        "finished",
        "finished",
    ]
