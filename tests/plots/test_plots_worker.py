"""Plot workers: the same files as drawing in-process, failures as warnings, no leftovers.

``MLPLAB_PLOT_WORKER=1`` makes ``train`` draw in forked workers even though this test
process has matplotlib loaded already (where ``auto`` would draw in-process).
"""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import ClassVar

import mlplab.training.run as run_module
import pytest
from mlplab.training.run import train
from plots_testlib import XOR_NN

from mlplab.plots import run_plots, session, worker

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="plot workers fork; /proc shows processes"
)

QUICK = {**XOR_NN, "epoch": 300, "engine": "numpy", "verbose": False, "log_every": 0}


def _stat(pid: int) -> tuple[str, int] | None:
    """(state, parent pid) of a live process, or None once it is gone (reaped)."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    fields = text.rsplit(")", 1)[1].split()
    return fields[0], int(fields[1])


def _children(pid: int) -> list[int]:
    kids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (st := _stat(int(entry.name))) and st[1] == pid:
            kids.append(int(entry.name))
    return kids


class _Spy(worker.RunPlotter):
    """A RunPlotter that remembers its worker processes, for checking they are gone."""

    seen: ClassVar[list[_Spy]] = []

    def __init__(self) -> None:
        super().__init__()
        self.leader: int | None = None
        self.helpers: list[int] = []
        _Spy.seen.append(self)

    def start(self) -> None:
        super().start()
        if self.workers is not None:
            self.leader = self.workers.proc.pid

    def submit(self, *args, **kwargs) -> None:
        super().submit(*args, **kwargs)
        if self.leader is not None:  # the leader forks its helper once the job arrives
            self.helpers = _wait_for_children(self.leader, timeout=10.0)


def _wait_for_children(pid: int, timeout: float = 30.0) -> list[int]:
    """The leader's helper, once the leader has forked it (or [] if the leader is gone).

    The helper stays the leader's child until reaped, even once it has exited.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and _stat(pid) is not None:
        if kids := _children(pid):
            return kids
        time.sleep(0.002)
    return []


@pytest.fixture
def spy(monkeypatch):
    # train forks no worker while other threads run (see worker.wanted); a thread left
    # behind by an earlier test in this process would turn these tests into in-process ones.
    threads = [t.name for t in threading.enumerate()]
    assert len(threads) == 1, f"threads left running by an earlier test: {threads}"
    monkeypatch.setenv(worker.ENV, "1")
    monkeypatch.setattr(run_module, "RunPlotter", _Spy)
    _Spy.seen.clear()
    yield _Spy.seen


def _assert_gone(plotter: _Spy) -> None:
    assert plotter.leader is not None, "no worker was started"
    assert plotter.workers is None
    for pid in [plotter.leader, *plotter.helpers]:
        assert _stat(pid) is None, (pid, _stat(pid))  # neither running nor a zombie
    assert multiprocessing.active_children() == []


# --- the same files -----------------------------------------------------------------------------
@pytest.mark.parametrize("fmt", ["svg", "png"])
def test_workers_write_the_same_files_as_drawing_in_process(spy, tmp_path, monkeypatch, fmt):
    there = train(**QUICK, plots=fmt, log_path=str(tmp_path / "worker"))
    (plotter,) = spy
    assert plotter.helpers, "the leader forked no helper"
    _assert_gone(plotter)
    monkeypatch.setenv(worker.ENV, "0")
    here = train(**QUICK, plots=fmt, log_path=str(tmp_path / "here"))
    assert spy[1].leader is None  # drawn in this process
    names = [f"{s}.{fmt}" for s in ("loss", "surface", "confusion", "network")]
    assert there.record["plot_files"] == here.record["plot_files"] == names
    for name in names:  # the same drawing code on the same numbers: the same bytes
        a = (there.run_dir / "plots" / name).read_bytes()
        assert a == (here.run_dir / "plots" / name).read_bytes(), name
    on_disk = json.loads((there.run_dir / "result.json").read_text())
    assert on_disk["plot_files"] == names


def test_workers_draw_the_snapshots_as_drawing_in_process_does(spy, tmp_path, monkeypatch):
    snap = {**QUICK, "snapshot_every": 10, "epoch": 150}  # 15 snapshots
    there = train(**snap, log_path=str(tmp_path / "worker"))
    (plotter,) = spy
    assert plotter.snapshots_sent and plotter.helpers
    _assert_gone(plotter)
    monkeypatch.setenv(worker.ENV, "0")
    here = train(**snap, log_path=str(tmp_path / "here"))
    names = ["boundary_evolution.gif", "boundary_evolution.png"]
    assert there.record["snapshots"] == here.record["snapshots"] == names
    for name in names + there.record["plot_files"]:
        a = (there.run_dir / "plots" / name).read_bytes()
        assert a == (here.run_dir / "plots" / name).read_bytes(), name


def test_work_is_split_between_the_two_workers():
    lead, helper = worker.split_work(["loss", "surface", "confusion", "network"])
    assert sorted(lead + helper) == ["confusion", "loss", "network", "surface"]
    assert lead and helper
    assert worker.split_work(["loss"]) == (["loss"], [])


def test_workers_only_where_they_pay_off(monkeypatch):
    monkeypatch.delenv(worker.ENV, raising=False)
    assert not worker.wanted()  # matplotlib is loaded in this process: draw here
    monkeypatch.setenv(worker.ENV, "0")
    assert not worker.wanted()
    monkeypatch.setenv(worker.ENV, "1")
    assert worker.wanted() == (threading.active_count() == 1)


# --- failures -----------------------------------------------------------------------------------
def test_a_drawing_error_in_a_worker_is_a_warning_and_keeps_the_results(spy, tmp_path, monkeypatch):
    def boom(*args, **kwargs):
        raise ValueError("boom")

    monkeypatch.setattr(run_plots.ConfusionPlot, "set_counts", boom)  # the workers fork with it
    with pytest.warns(
        RuntimeWarning, match=r"plotting failed \(ValueError: boom\); results are kept"
    ):
        result = train(**QUICK, log_path=str(tmp_path))
    _assert_gone(spy[0])
    on_disk = json.loads((result.run_dir / "result.json").read_text())
    assert on_disk["status"] == "finished" and on_disk["test_acc"] == result.record["test_acc"]
    assert "plot_files" not in on_disk
    assert (result.run_dir / "checkpoints" / "last.safetensors").exists()


@pytest.mark.parametrize("who", ["leader", "helper"])
def test_a_worker_that_dies_is_a_warning_and_keeps_the_results(spy, tmp_path, monkeypatch, who):
    write = session.DrawingSession.write
    test_process = os.getpid()

    def dying(self, job, stems):
        if os.getpid() == test_process:  # never end the test process itself
            raise AssertionError("drawn in the test process, not in a worker")
        is_leader = os.getppid() == test_process
        if stems and is_leader == (who == "leader"):
            os._exit(3)
        return write(self, job, stems)

    monkeypatch.setattr(session.DrawingSession, "write", dying)
    with pytest.warns(RuntimeWarning, match=r"plotting failed \(.*died.*\); results are kept"):
        result = train(**QUICK, log_path=str(tmp_path))
    if who == "leader":
        # A leader that dies outright cannot reap its helper: the kernel kills the helper
        # as its parent dies (PR_SET_PDEATHSIG), and init reaps it, a moment later.
        deadline = time.monotonic() + 10
        while any(_stat(p) for p in spy[0].helpers) and time.monotonic() < deadline:
            time.sleep(0.01)
    _assert_gone(spy[0])
    on_disk = json.loads((result.run_dir / "result.json").read_text())
    assert on_disk["status"] == "finished" and "plot_files" not in on_disk


def test_a_worker_that_hangs_is_stopped_and_the_run_goes_on(spy, tmp_path, monkeypatch):
    monkeypatch.setattr(session.DrawingSession, "write", lambda *a, **k: time.sleep(600))
    monkeypatch.setattr(worker, "TIMEOUT_S", 2.0)
    t = time.monotonic()
    with pytest.warns(RuntimeWarning, match=r"plotting failed \(.*did not finish in 2 s\)"):
        result = train(**QUICK, log_path=str(tmp_path))
    assert time.monotonic() - t < 60
    _assert_gone(spy[0])
    assert json.loads((result.run_dir / "result.json").read_text())["status"] == "finished"


def test_a_failed_run_leaves_no_worker(spy, tmp_path, monkeypatch):
    def broken_fit(*args, **kwargs):
        assert _stat(spy[0].leader) is not None  # the leader is up
        raise RuntimeError("engine broke")

    monkeypatch.setattr(run_module, "fit", broken_fit)
    with pytest.raises(RuntimeError, match="engine broke"):
        train(**QUICK, log_path=str(tmp_path))
    _assert_gone(spy[0])
    (run_dir,) = Path(tmp_path).glob("*/*")
    assert json.loads((run_dir / "result.json").read_text())["status"] == "failed"


# --- Ctrl-C and SIGTERM --------------------------------------------------------------------------
@pytest.mark.parametrize(
    "how, code",
    [("ctrl-c", 130), ("sigterm", 143)],
    ids=["ctrl-c to the process group", "SIGTERM to the run"],
)
def test_a_stopped_run_leaves_no_worker_behind(tmp_path, how, code):
    """Ctrl-C reaches the whole process group, SIGTERM (from `kill`) the run alone;
    either way the run stops with a checkpoint, and its workers are gone."""
    env = {**os.environ, worker.ENV: "1", "PYTHONUNBUFFERED": "1"}
    args = ["--data", "xor", "--n_layer", "1", "--hid_dim", "2", "--epoch", "100000000"]
    args += ["--log_every", "0", "--validate_every", "1000", "--engine", "numpy"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "mlplab", "train", *args, "--log_path", str(tmp_path), "--quiet"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, as a shell gives a command
    )
    try:
        deadline = time.monotonic() + 60
        leaders: list[int] = []
        while time.monotonic() < deadline and not leaders:
            leaders = _children(proc.pid)  # forked as the command starts (prestart)
            time.sleep(0.02)
        assert leaders, "the plot worker did not start"
        while not list(tmp_path.glob("*/*/result.json")) and time.monotonic() < deadline:
            time.sleep(0.02)  # the run is recorded: training starts
        time.sleep(0.5)  # the leader has loaded matplotlib and drawn backgrounds by now
        helpers = [h for pid in leaders for h in _children(pid)]
        assert helpers == []  # the helper is forked for the job only
        if how == "ctrl-c":
            os.killpg(proc.pid, signal.SIGINT)
        else:
            os.kill(proc.pid, signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == code, err
    assert "Traceback" not in err
    for pid in leaders + helpers:
        assert _stat(pid) is None, (pid, _stat(pid))  # reaped: by the run, by the leader
    (run_dir,) = tmp_path.glob("*/*")
    assert json.loads((run_dir / "result.json").read_text())["status"] == "interrupted"
    assert not (run_dir / "plots").exists()
