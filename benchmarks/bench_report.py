"""How long ``mlplab report`` takes on N runs: 256 (a sweep) and 10,000 (a big search).

Makes N synthetic run records quickly, in the shape ``mlplab train`` writes them: every
setting of a validated Config, the final metrics, and curves of ``--points`` values
(``train_losses``, ``val_losses``, ``train_accs``, ``val_accs``, ``lrs``, ``val_epochs``).
``--shape grid`` gives 32 configs (hid_dim × lr × act) with N/32 seeds each;
``--shape random`` gives every run its own log-uniform lr and hid_dim (a random search).
Then it times the whole command, ``python -m mlplab report DIR --out OUT``, against
``python -c 'import mlplab.reports.api, mlplab.reports.plots, matplotlib.figure'`` (the
imports alone), and prints both and their difference, as wall and as CPU time.

Run: ``.venv/bin/python benchmarks/bench_report.py --runs 256 [--runs 10000] [--repeats 3]``
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

IMPORTS = "import mlplab.reports.api, mlplab.reports.plots, matplotlib.figure, pandas"


def make_records(folder: Path, n: int, points: int, shape: str, seed: int = 0) -> None:
    """Write ``n`` result.json files under ``folder/bench`` (about 12 KB each at 200 points)."""
    from mlplab.config import make_config

    rng = np.random.default_rng(seed)
    base = make_config({"data": "ring", "epoch": points, "exp_name": "bench"}).to_dict()
    epochs = np.arange(1, points + 1)
    if shape == "grid":
        config = np.arange(n) % 32
        hid_dim = np.array([2, 4, 8, 16])[config % 4]
        lr = np.array([0.01, 0.03, 0.1, 0.3])[config // 4 % 4]
        act = np.array(["relu", "tanh"])[config // 16]
        seeds = np.arange(n) // 32
        speed = hid_dim * lr
    else:
        hid_dim = rng.integers(2, 129, n)
        lr = 10 ** rng.uniform(-4, 0, n)
        act = np.full(n, "relu")
        seeds = rng.integers(0, 5, n)
        speed = hid_dim * lr / 8
    # Whole [n, points] arrays at once: a loss that falls at each config's own speed, to
    # a floor of its own, with noise per run.
    t = epochs / points
    floor = 0.05 + 0.3 * rng.random((n, 1))
    noise = 0.01 * rng.standard_normal((2, n, points))
    train_loss = np.round(floor + 0.65 * np.exp(-4 * speed[:, None] * t) + noise[0], 6)
    val_loss = np.round(train_loss + 0.02 + noise[1], 6)
    train_acc = np.round(np.clip(1.0 - 0.9 * train_loss, 0, 1), 4)
    val_acc = np.round(np.clip(1.0 - 0.9 * val_loss, 0, 1), 4)
    wall = 0.5 + rng.random(n)
    val_epochs = epochs.tolist()
    for i in range(n):
        run_id = f"bench-{i:06x}"
        record = {
            **base,
            "hid_dim": int(hid_dim[i]),
            "lr": float(lr[i]),
            "act": str(act[i]),
            "seed": int(seeds[i]),
            "run_id": run_id,
            "engine_used": "numpy",
            "task_type": "binary",
            "status": "finished",
            "epochs_run": points,
            "train_losses": train_loss[i].tolist(),
            "val_losses": val_loss[i].tolist(),
            "val_epochs": val_epochs,
            "lrs": [float(lr[i])] * points,
            "train_accs": train_acc[i].tolist(),
            "val_accs": val_acc[i].tolist(),
            "train_loss": float(train_loss[i, -1]),
            "val_loss": float(val_loss[i, -1]),
            "test_loss": float(val_loss[i, -1] + 0.01),
            "train_acc": float(train_acc[i, -1]),
            "val_acc": float(val_acc[i, -1]),
            "test_acc": float(max(val_acc[i, -1] - 0.01, 0.0)),
            "wall_time_s": float(wall[i]),
        }
        run_dir = folder / "bench" / run_id
        run_dir.mkdir(parents=True)
        (run_dir / "result.json").write_text(json.dumps(record), encoding="utf-8")


def timed(args: list[str]) -> tuple[float, float]:
    """Wall and CPU seconds (user + system) of one command. CPU time is what to compare
    on a busy machine, where wall time also counts waiting for a core."""
    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return wall, cpu


def median_of(args: list[str], repeats: int) -> tuple[float, float]:
    times = [timed(args) for _ in range(repeats)]
    return statistics.median(t[0] for t in times), statistics.median(t[1] for t in times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, action="append", help="N (repeatable); default 256")
    parser.add_argument("--points", type=int, default=200, help="points per curve")
    parser.add_argument("--shape", choices=("grid", "random"), default="grid")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores, "
          f"load {os.getloadavg()[0]:.2f}, shape {args.shape}, {args.points} points a curve")  # fmt: skip
    print(
        "| runs | make records (s) | imports: wall, CPU (s) | mlplab report: wall, CPU (s) "
        "| beyond imports: wall, CPU (s) |"
    )
    print("|---:|---:|---:|---:|---:|")
    for n in args.runs or [256]:
        folder = Path(tempfile.mkdtemp(prefix="bench-report-"))
        try:
            start = time.perf_counter()
            make_records(folder, n, args.points, args.shape)
            made = time.perf_counter() - start
            imports = median_of([sys.executable, "-c", IMPORTS], args.repeats)
            command = [sys.executable, "-m", "mlplab", "report", str(folder / "bench")]
            command += ["--out", str(folder / "out")]
            total = median_of(command, args.repeats)
            print(
                f"| {n} | {made:.1f} | {imports[0]:.2f}, {imports[1]:.2f} "
                f"| {total[0]:.2f}, {total[1]:.2f} "
                f"| {total[0] - imports[0]:.2f}, {total[1] - imports[1]:.2f} |"
            )
        finally:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
