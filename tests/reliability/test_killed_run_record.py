"""A run killed outright (SIGKILL: no handler runs) leaves a result.json that says how far
it got: each checkpoint save rewrites it, still ``running``, with the saved progress."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

from reliability_support import ENV, MLPLAB, call_main, metrics_rows, read_json, run_dirs

from mlplab.runs.checkpoint import load_checkpoint


def wait_for_rows(log: Path, rows: int, proc: subprocess.Popen[bytes]) -> Path:
    """The run folder under ``log`` once its metrics.csv holds ``rows`` rows."""
    deadline = time.monotonic() + 300  # generous: a loaded machine starts slowly
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the run ended before it was killed"
        for run_dir in run_dirs(log):
            if (run_dir / "metrics.csv").is_file() and len(metrics_rows(run_dir)) >= rows:
                return run_dir
        time.sleep(0.05)
    raise AssertionError(f"no metrics.csv with {rows} rows under {log}")


def test_a_killed_runs_result_json_says_how_far_it_got(tmp_path, capsys):
    log = tmp_path / "runs"
    proc = subprocess.Popen(
        [
            *MLPLAB,
            *("train", "--data", "xor", "--epoch", "100000", "--save_every", "1"),
            *("--plots", "none", "--log_path", str(log)),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=ENV,
    )
    try:
        # Epoch 2's row is written at the second save, after the first ended with its
        # result.json: the record then says at least 1 epoch.
        run_dir = wait_for_rows(log, 2, proc)
        # While it trains, the report tells it from a killed run by its lock.
        capsys.readouterr()
        assert call_main(["report", str(log)]) == 0
        said = " ".join(capsys.readouterr().out.split())
        assert "1 run(s) say running: 1 being trained now (another process holds its lock)" in said
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait()
    assert proc.returncode == -signal.SIGKILL

    result = read_json(run_dir / "result.json")
    loop = load_checkpoint(run_dir / "checkpoints" / "last.safetensors").meta["loop"]
    assert result["status"] == "running"
    # Written after the checkpoint: the same epoch, or one save behind (killed between).
    assert result["epochs_run"] >= 1
    assert loop["epoch"] - 1 <= result["epochs_run"] <= loop["epoch"]
    assert result["steps"] == result["epochs_run"]  # xor trains full-batch: a step an epoch
    assert result["val_epochs"] == list(range(1, result["epochs_run"] + 1))
    assert len(result["train_losses"]) == len(result["val_losses"]) == result["epochs_run"]
    assert result["best_epoch"] >= 1 and result["best_val_loss"] is not None
    assert len(metrics_rows(run_dir)) >= result["epochs_run"]
    assert "wall_time_s" not in result and "message" not in result

    # A report counts it as running, and says it was killed: no process holds its lock.
    capsys.readouterr()
    assert call_main(["report", str(log)]) == 0
    assert (
        "1 run(s) say running: 1 killed before they could record how they ended; the same "
        "train or sweep command again continues the killed ones"
        in " ".join(capsys.readouterr().out.split())
    )
