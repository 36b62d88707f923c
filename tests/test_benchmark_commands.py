"""The benchmarks' workloads still train: BENCHMARKS.md gives their commands, and a
setting that mlplab came to refuse left a table that no one could make again."""

from __future__ import annotations

import subprocess
import sys

from conftest import REPO


def test_the_compute_bound_workload_trains_as_its_command_runs_it():
    """`bench_engines.py --only W4` stopped at a ConfigError: it gave train both data=
    and dataset=. Here at a small size, through the function the command calls."""
    code = (
        "import sys; sys.path.insert(0, 'benchmarks'); import bench_engines as b; "
        "print(b.w4(1, n=2000, epochs=1, batch=500))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=600
    )
    assert proc.returncode == 0, proc.stderr
    rows = [line for line in proc.stdout.splitlines() if line.startswith("| mlplab train")]
    assert rows and rows[0].startswith("| mlplab train, engine torch, record |"), proc.stdout
