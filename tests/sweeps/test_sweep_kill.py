"""A sweep whose process is killed outright (SIGKILL) continues, when run again, from each
config's last checkpoint, and ends with the records of a sweep that was never stopped.

In-process (``--workers 1``) the kill lands inside training, with no chance to write
anything; with worker processes the workers get SIGTERM from the kernel when the sweep's
process dies and stop at a step boundary. The moment of the kill varies from case to case.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from mlplab.runs.checkpoint import load_checkpoint
from mlplab.runs.curves import read_curves

# Epochs enough that training lasts some seconds past the first checkpoints on a quiet
# machine: at 1500, the sweep had ended before the kill 1.7 s after them.
EPOCHS = 4000
ARGS = [
    "--data", "moons", "--hid_dim", "8", "--lr", "0.1", "0.2", "--seed", "0", "1",
    "--epoch", str(EPOCHS), "--batch_size", "64", "--save_every", "40", "--log_every", "0",
    "--plots", "none", "--no_report",
]  # fmt: skip
# Keys of result.json that differ between two runs of the same config.
VOLATILE = {"wall_time_s", "started_at", "finished_at", "log_path", "message", "error"}


def sweep(log: Path, workers: int) -> subprocess.Popen[str]:
    cmd = [sys.executable, "-m", "mlplab", "sweep", *ARGS, "--workers", str(workers)]
    return subprocess.Popen(
        [*cmd, "--log_path", str(log)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def finish(p: subprocess.Popen[str]) -> None:
    _, err = p.communicate(timeout=600)
    assert p.returncode == 0, err


@pytest.fixture(scope="module")
def whole(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same sweep, never stopped."""
    log = tmp_path_factory.mktemp("whole")
    finish(sweep(log, 1))
    return log


def wait_for_workers_to_exit(sweep_pid: int) -> None:
    """Until no worker of the sweep ``sweep_pid`` runs (``python -m mlplab.sweeps.worker
    PID``): on a busy machine their checkpoints can take longer than any fixed wait."""
    deadline = time.monotonic() + 120
    mine = [b"mlplab.sweeps.worker", str(sweep_pid).encode()]
    while time.monotonic() < deadline:
        alive = []
        for proc in Path("/proc").glob("[0-9]*"):
            try:
                args = (proc / "cmdline").read_bytes().split(b"\0")
            except OSError:  # gone meanwhile
                continue
            if all(a in args for a in mine) and (proc / "stat").read_text().split()[2] != "Z":
                alive.append(proc.name)
        if not alive:
            return
        time.sleep(0.05)
    raise AssertionError(f"the workers of sweep {sweep_pid} still run after 120 s: {alive}")


def epoch_events(run_dir: Path) -> list[tuple[int, float]]:
    """(epoch, wall time) of every epoch-indexed TensorBoard event of a run."""
    from tensorboard.backend.event_processing.event_file_loader import LegacyEventFileLoader

    out = []
    for path in run_dir.glob("events.out.tfevents.*"):
        for e in LegacyEventFileLoader(str(path)).Load():
            if any(v.tag in ("train/loss", "val/loss") for v in e.summary.value):
                out.append((e.step, e.wall_time))
    return out


@pytest.mark.parametrize(("workers", "delay"), [(1, 0.4), (1, 1.7), (2, 1.0)])
def test_sigkill_then_the_same_sweep_again_equals_an_uninterrupted_sweep(
    tmp_path, whole, workers, delay
):
    cut = tmp_path / "cut"
    first = sweep(cut, workers)
    deadline = time.time() + 300
    while time.time() < deadline:  # every run has a checkpoint: then a little more
        if len(list(cut.glob("exp/exp-*/checkpoints/last.safetensors"))) == 4:
            break
        time.sleep(0.02)
    time.sleep(delay)
    os.kill(first.pid, signal.SIGKILL)
    first.communicate(timeout=60)
    assert first.returncode == -signal.SIGKILL
    wait_for_workers_to_exit(first.pid)  # they checkpoint on their SIGTERM, then exit
    runs = sorted(cut.glob("exp/exp-*"))
    statuses = [json.loads((d / "result.json").read_text())["status"] for d in runs]
    assert len(runs) == 4 and "finished" not in statuses, statuses
    saved = {d.name: load_checkpoint(d / "checkpoints" / "last.safetensors").meta for d in runs}
    assert all(0 < m["loop"]["epoch"] < EPOCHS for m in saved.values())

    rerun_started = time.time()
    finish(sweep(cut, workers))

    for d in runs:
        a, b = d, whole / "exp" / d.name
        ra, rb = (json.loads((x / "result.json").read_text()) for x in (a, b))
        assert ra["status"] == rb["status"] == "finished"
        for key in sorted((set(ra) | set(rb)) - VOLATILE):
            assert ra.get(key) == rb.get(key), (d.name, key)
        assert (a / "metrics.csv").read_text() == (b / "metrics.csv").read_text()
        ca, cb = read_curves(a), read_curves(b)
        assert ca.keys() == cb.keys()
        for key in ca:
            np.testing.assert_array_equal(ca[key], cb[key], err_msg=f"{d.name} {key}")
        # Only the epochs after the checkpoint were trained again: events up to its epoch
        # are the first sweep's, every later one the second's, and none is doubled.
        loop = saved[d.name]["loop"]
        done = loop["epoch"]
        events = epoch_events(a)
        assert sorted(e for e, _ in events) == sorted(e for e, _ in epoch_events(b))
        assert all((t < rerun_started) == (e <= done) for e, t in events), (d.name, done)
