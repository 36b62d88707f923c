"""``mlplab sweep`` on the command line: worker processes, summary, report; bad values."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from mlplab.cli import main


def test_cli_sweep_with_two_workers_writes_runs_and_report(tmp_path: Path) -> None:
    log = tmp_path / "runs"
    args = [
        "sweep", "--data", "xor", "--n_layer", "1", "--hid_dim", "2", "4",
        "--act", "sigmoid", "tanh", "--lr", "1", "--epoch", "60", "--engine", "numpy",
        "--log_every", "0", "--plots", "none", "--log_path", str(log),
        "--exp_name", "cli", "--workers", "2",
    ]  # fmt: skip
    proc = subprocess.run(
        [sys.executable, "-m", "mlplab", *args], capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr
    assert "4 runs: 4 trained, 0 skipped, 0 failed/diverged" in proc.stdout
    assert len(list((log / "cli").glob("cli-*/result.json"))) == 4
    assert len(list((log / "cli").glob("sweep-*.yaml"))) == 1
    assert (log / "cli" / "report.html").is_file() and (log / "cli" / "results.csv").is_file()
    assert "configs ranked by val_acc" in proc.stdout

    # The same command again: everything is skipped (in-process, --quiet, no report).
    code = main([*args, "--quiet", "--no_report"])
    assert code == 0


def test_cli_bad_axis_value_exits_2_with_one_line_and_writes_nothing(
    tmp_path: Path, capsys
) -> None:
    log = tmp_path / "runs"
    code = main(["sweep", "--data", "xor", "--lr", "0.1", "-1", "--log_path", str(log)])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert len(err.splitlines()) == 1 and "'lr'" in err and err.startswith("mlplab:")
    assert not log.exists()
