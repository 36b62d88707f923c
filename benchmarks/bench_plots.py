"""What drawing a run's plots adds to a run of the xor-nn lab, as users run it.

Runs the whole command ``mlplab train --config examples/xor_nn.yaml --quiet --log_path
TMP --plots MODE`` with ``--plots none`` and ``--plots png`` alternating (so that both
see the same machine load), ``--repeats`` times each, and prints the medians of wall and
CPU time (user + system) and what plots add, as a markdown table. CPU time is shown
because it barely moves when other jobs share the machine; wall time does.

Run: ``.venv/bin/python benchmarks/bench_plots.py [--repeats 5]``
"""

from __future__ import annotations

import argparse
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import load_note, table

REPO = Path(__file__).resolve().parents[1]
LAB = REPO / "examples" / "xor_nn.yaml"
MODES = ("none", "png")


def time_train(plots: str, log_path: Path) -> tuple[float, float]:
    """Wall seconds and CPU seconds (user + system) of one ``mlplab train`` command."""
    shutil.rmtree(log_path, ignore_errors=True)
    cmd = [sys.executable, "-m", "mlplab", "train", "--config", str(LAB), "--quiet"]
    cmd += ["--log_path", str(log_path), "--plots", plots]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="runs of each mode (default 5)")
    args = parser.parse_args(argv)
    times: dict[str, list[tuple[float, float]]] = {m: [] for m in MODES}
    print(f"xor-nn lab, {args.repeats} runs per mode; {load_note()}")
    with tempfile.TemporaryDirectory() as tmp:
        time_train("none", Path(tmp) / "warm")  # file caches, .pyc: not the first run's cost
        for _ in range(args.repeats):
            for mode in MODES:
                times[mode].append(time_train(mode, Path(tmp) / mode))
    med = {m: [statistics.median(t[k] for t in times[m]) for k in (0, 1)] for m in MODES}
    rows = []
    for mode in MODES:
        wall, cpu = med[mode]
        rows.append([f"--plots {mode}", wall, cpu, wall / med["none"][0], cpu / med["none"][1]])
    print(table(["command", "wall s", "CPU s", "wall / none", "CPU / none"], rows))
    added = med["png"][0] - med["none"][0]
    print(f"plots add {added:.2f} s wall ({100 * added / med['none'][0]:.0f}%); {load_note()}")


if __name__ == "__main__":
    main()
