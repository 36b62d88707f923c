"""An interrupted sweep, run again, continues each run from its checkpoint, exactly."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from mlplab.runs.curves import read_curves

ARGS = [
    "--data", "moons", "--hid_dim", "8", "--lr", "0.1", "0.2", "--seed", "0", "1",
    "--epoch", "3000", "--batch_size", "64", "--log_every", "0", "--plots", "none",
    "--no_report", "--workers", "1",
]  # fmt: skip


def sweep(log: Path) -> subprocess.Popen[str]:
    cmd = [sys.executable, "-m", "mlplab", "sweep", *ARGS, "--log_path", str(log)]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def first_event_time(run_dir: Path) -> float:
    from tensorboard.backend.event_processing.event_file_loader import LegacyEventFileLoader

    (path,) = [
        p for p in run_dir.glob("events.out.tfevents.*") if p.stat().st_size
    ]  # resumed: one emptied
    times = [e.wall_time for e in LegacyEventFileLoader(str(path)).Load() if e.summary.value]
    return min(times)


def test_ctrl_c_then_the_same_sweep_again_equals_an_uninterrupted_sweep(tmp_path):
    cut, whole = tmp_path / "cut", tmp_path / "whole"
    first = sweep(cut)
    deadline = time.time() + 120
    while time.time() < deadline:  # until the stack has trained a while
        records = list(cut.glob("exp/exp-*/result.json"))
        if len(records) == 4:
            time.sleep(2.0)
            break
        time.sleep(0.05)
    first.send_signal(signal.SIGINT)
    _, err = first.communicate(timeout=300)
    assert first.returncode == -signal.SIGINT, err
    stopped = {p.parent.name: json.loads(p.read_text()) for p in cut.glob("exp/exp-*/result.json")}
    assert {r["status"] for r in stopped.values()} == {"interrupted"}
    assert all(r["steps"] > 0 for r in stopped.values())

    rerun_started = time.time()
    again = sweep(cut)
    _, err = again.communicate(timeout=600)
    assert again.returncode == 0, err
    ref = sweep(whole)
    _, err = ref.communicate(timeout=600)
    assert ref.returncode == 0, err

    for name in stopped:
        a, b = cut / "exp" / name, whole / "exp" / name
        ra, rb = (json.loads((d / "result.json").read_text()) for d in (a, b))
        assert ra["status"] == rb["status"] == "finished"
        for key in ("train_loss", "val_loss", "test_loss", "test_acc", "best_epoch"):
            assert ra[key] == rb[key], (name, key)
        ca, cb = read_curves(a), read_curves(b)
        for key in ca:
            np.testing.assert_array_equal(ca[key], cb[key], err_msg=f"{name} {key}")
        # The epochs before the checkpoint were not trained again: their TensorBoard
        # events are the first sweep's, written before the second one started.
        assert first_event_time(a) < rerun_started
