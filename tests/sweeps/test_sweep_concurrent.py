"""Two sweeps writing into the same log_path at once do not clobber each other."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from mlplab.runs.curves import read_curves


def test_two_sweeps_at_once_train_every_run_exactly_once(tmp_path: Path) -> None:
    log = tmp_path / "runs"
    cmd = [
        sys.executable,
        "-m",
        "mlplab",
        "sweep",
        "--data",
        "xor",
        "--n_layer",
        "1",
        "--hid_dim",
        "2",
        "--act",
        "sigmoid",
        "--lr",
        "0.5",
        "1",
        "--seed",
        "0",
        "1",
        "2",
        "--epoch",
        "3000",
        "--log_every",
        "0",
        "--plots",
        "none",
        "--no_batch",
        "--workers",
        "1",
        "--no_report",
        "--exp_name",
        "shared",
        "--log_path",
        str(log),
    ]
    procs = [
        subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outs = [p.communicate(timeout=600) for p in procs]
    for p, (out, err) in zip(procs, outs, strict=True):
        assert p.returncode == 0, out + err
    runs = sorted(
        d for d in (log / "shared").iterdir() if d.is_dir() and not d.name.startswith(".")
    )
    assert len(runs) == 6
    for run in runs:
        result = json.loads((run / "result.json").read_text())
        assert result["status"] == "finished" and result["test_acc"] >= 0.5
        # Trained once: one TensorBoard event file, and its curve has one entry per epoch.
        assert len(list(run.glob("events.out.tfevents.*"))) == 1, run
        assert result["curves_thinned"]["points"] == 3000  # every epoch, in curves.npz
        assert len(read_curves(run)["train_losses"]) == 3000
    trained = [int(out.split(" trained")[0].split(":")[-1]) for out, _ in outs]
    assert sum(trained) == 6, outs
