"""A NaN or inf loss ends the run as ``diverged``: exit 1, a message naming the step and a
lower lr, partial curves, and the best checkpoint so far kept and loadable."""

from __future__ import annotations

import numpy as np
import pytest
from reliability_support import call_main, cli, once, read_json, run_dirs

from mlplab.restore import load_run

DIVERGING = ["--data", "sinlog", "--lr", "10", "--epoch", "50", "--save_every", "1"]


@pytest.mark.parametrize("engine", ["numpy", "torch"])
def test_divergence_is_recorded_and_best_is_kept(tmp_path, capsys, engine):
    rc = call_main(["train", *DIVERGING, "--engine", engine, "--log_path", str(tmp_path)])
    out = capsys.readouterr()
    assert rc == 1
    assert "Traceback" not in out.err
    (run_dir,) = run_dirs(tmp_path)
    r = read_json(run_dir / "result.json")
    assert r["status"] == "diverged"
    # Full batch: one step an epoch, so the step that blew up is the epochs completed.
    assert f"at step {r['steps']}" in r["message"] and "--lr 1" in r["message"]
    # Shown to the user as well, on stderr: why the exit status is 1.
    assert out.err == f"mlplab: {r['message']}\n" and r["message"] not in out.out
    assert r["epochs_run"] == len(r["train_losses"]) == r["steps"] >= 2  # the curves before it
    assert 1 <= r["best_epoch"] < r["epochs_run"]
    loaded = load_run(run_dir, which="best")
    assert loaded.checkpoint_meta["loop"]["history"]["best_epoch"] == r["best_epoch"]
    pred = loaded.model_outputs(loaded.dataset.X_test)
    assert np.isfinite(pred).all()
    # Resuming would only diverge again: refused with one line.
    assert call_main(["train", "--resume", str(run_dir)]) == 2
    assert "diverged" in capsys.readouterr().err


@pytest.mark.parametrize("engine", ["numpy", "torch"])
def test_a_last_step_that_breaks_the_weights_is_a_divergence(tmp_path, capsys, engine):
    """Each step's loss is taken before its update, so the last update's harm shows only
    in the final evaluation: that run is diverged too, with the record of a longer run."""
    flags = [*DIVERGING, "--engine", engine, "--plots", "none"]
    assert call_main(["train", *flags, "--log_path", str(tmp_path / "long")]) == 1
    (long_dir,) = run_dirs(tmp_path / "long")
    long = read_json(long_dir / "result.json")
    cut = once(*flags, "--epoch", str(long["steps"]), "--log_path", str(tmp_path / "cut"))
    assert call_main(["train", *cut]) == 1  # every step's loss was finite
    (cut_dir,) = run_dirs(tmp_path / "cut")
    r = read_json(cut_dir / "result.json")
    assert r["status"] == "diverged" and r["message"] == long["message"]
    for key in ("steps", "epochs_run", "best_epoch", "train_losses", "val_losses"):
        assert r[key] == long[key], key
    assert "test_loss" not in r and r["message"] in capsys.readouterr().err


def test_divergence_in_a_real_process_has_no_traceback(tmp_path):
    proc = cli("train", *DIVERGING, "--engine", "numpy", "--log_path", str(tmp_path), "--quiet")
    assert proc.returncode == 1, proc.stderr
    # --quiet still says, in one line, why the run stopped.
    assert proc.stdout == "" and "Traceback" not in proc.stderr
    (line,) = proc.stderr.splitlines()
    assert line.startswith("mlplab:") and "diverged" in line and "lower lr" in line
    # Without --quiet, the same line on stderr (where a script reads why the status is
    # not 0; it was on stdout), and the run's own lines on stdout.
    proc = cli("train", *DIVERGING, "--engine", "numpy", "--log_path", str(tmp_path / "loud"))
    assert proc.returncode == 1 and proc.stderr.splitlines() == [line]
    assert "diverged" not in proc.stdout and "record in" in proc.stdout


@pytest.mark.parametrize("flags", [["--lr", "inf"], ["--l2_coef", "inf"], ["--noise", "nan"]])
def test_infinite_settings_are_refused_up_front(tmp_path, capsys, flags):
    rc = call_main(
        ["train", "--data", "moons", "--epoch", "3", "--log_path", str(tmp_path), *flags]
    )
    assert rc == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert f"'{flags[0][2:]}'" in line and "finite" in line
    assert not list(tmp_path.rglob("result.json"))


@pytest.mark.parametrize("flags", [["--lr", "1e308"], ["--l2_coef", "1e300"]])
def test_overflowing_settings_diverge_quietly(tmp_path, capsys, flags):
    # Float overflow inside a step is a divergence, not a stream of RuntimeWarnings
    # (which pytest turns into errors here).
    rc = call_main(
        ["train", "--engine", "numpy", "--epoch", "3", "--log_path", str(tmp_path), *flags]
    )
    assert rc == 1
    record = read_json(run_dirs(tmp_path)[0] / "result.json")
    assert record["status"] == "diverged"
    assert capsys.readouterr().err == f"mlplab: {record['message']}\n"  # and no warnings


def test_plot_draws_a_diverged_run_from_its_best_model(tmp_path, capsys):
    assert call_main(["train", *DIVERGING, "--engine", "numpy", "--log_path", str(tmp_path)]) == 1
    (run_dir,) = run_dirs(tmp_path)
    capsys.readouterr()
    assert call_main(["plot", str(run_dir), "--out", str(tmp_path / "pics")]) == 0
    assert (tmp_path / "pics" / "loss.png").is_file()
    # Diverged before any periodic checkpoint: only `best` is there, and it is drawn.
    (run_dir / "checkpoints" / "last.safetensors").unlink()
    assert call_main(["plot", str(run_dir), "--out", str(tmp_path / "best")]) == 0
    assert (tmp_path / "best" / "loss.png").is_file()
