"""What drawing a run's plots adds to the wall time of the xor-nn lab.

The lab (2-2-1 sigmoid, SGD lr 1, 10001 full-batch steps, seed 777, numpy engine) runs
as the whole ``mlplab train`` command, as a user runs it, once with ``--plots none``
and once with ``--plots png`` (and ``svg``), alternating, several times each. The
medians and their ratio are printed as a markdown table, together with where the time
goes inside one process (matplotlib's import, building the figures, writing them).

Run: ``.venv/bin/python benchmarks/bench_plots.py [--repeats 7]``
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

LAB = [
    "--data",
    "xor",
    "--n_layer",
    "1",
    "--hid_dim",
    "2",
    "--act",
    "sigmoid",
    "--optim",
    "sgd",
    "--lr",
    "1",
    "--epoch",
    "10001",
    "--seed",
    "777",
    "--engine",
    "numpy",
    "--quiet",
]

# Where the time goes, measured inside one fresh process after training.
BREAKDOWN = r"""
import json, sys, time
from pathlib import Path
import mlplab.training.run as run
res = run.train(data="xor", n_layer=1, hid_dim=2, act="sigmoid", optim="sgd", lr=1.0,
                epoch=10001, seed=777, engine="numpy", log_path=sys.argv[1], plots="none",
                verbose=False)
t0 = time.perf_counter()
from mlplab.plots.run_plots import run_figures
from mlplab.plots.style import save_figure
t1 = time.perf_counter()
figs = run_figures(res.record, res.dataset, res.backend, res.spec)
t2 = time.perf_counter()
for stem, fig in figs.items():
    save_figure(fig, Path(sys.argv[1]) / f"{stem}.png", "png")
t3 = time.perf_counter()
print(json.dumps({"import": t1 - t0, "build": t2 - t1, "write": t3 - t2,
                  "train_wall": res.record["wall_time_s"]}))
"""


def mlplab_cmd() -> list[str]:
    exe = Path(sys.executable).with_name("mlplab")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "mlplab"]


def time_train(plots: str, log_path: Path) -> tuple[float, float]:
    """Wall seconds and CPU seconds (user + system) of one ``mlplab train`` process.

    CPU time is reported next to wall time because it barely moves when other jobs
    share the machine, while wall time does.
    """
    shutil.rmtree(log_path, ignore_errors=True)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    subprocess.run(
        [*mlplab_cmd(), "train", *LAB, "--plots", plots, "--log_path", str(log_path)],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    modes = ("none", "png", "svg")
    times: dict[str, list[float]] = {m: [] for m in modes}
    cpus: dict[str, list[float]] = {m: [] for m in modes}
    parts: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        time_train("none", root / "warmup")  # fill the OS file cache, build .pyc files
        for _ in range(args.repeats):
            for m in modes:  # interleaved, so drift in machine load hits every mode alike
                wall, cpu = time_train(m, root / m)
                times[m].append(wall)
                cpus[m].append(cpu)
            out = subprocess.run(
                [sys.executable, "-c", BREAKDOWN, str(root / "breakdown")],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            import json

            for k, v in json.loads(out.strip().splitlines()[-1]).items():
                parts.setdefault(k, []).append(v)
        files = sorted(p.name for p in (root / "png").rglob("plots/*"))

    med = {m: statistics.median(v) for m, v in times.items()}
    cpu = {m: statistics.median(v) for m, v in cpus.items()}
    base = med["none"]
    print(f"## Plots: cost on the xor-nn lab ({args.repeats} runs each, median)\n")
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}; plots written: {', '.join(files)}\n"
    )
    print("| `--plots` | wall (s) | min–max (s) | added (s) | wall ratio | CPU (s) | CPU ratio |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for m in modes:
        v = times[m]
        print(
            f"| {m} | {med[m]:.3f} | {min(v):.3f}–{max(v):.3f} | {med[m] - base:+.3f} | "
            f"{med[m] / base:.3f} | {cpu[m]:.3f} | {cpu[m] / cpu['none']:.3f} |"
        )
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"\nload average at the end: {load:.2f} (wall times are only comparable on an idle machine)"
    )
    print("\nInside one process (median, s):\n")
    print(
        "| training (wall_time_s) | import matplotlib + mlplab.plots | build figures | write PNGs |"
    )
    print("|---:|---:|---:|---:|")
    p = {k: statistics.median(v) for k, v in parts.items()}
    print(f"| {p['train_wall']:.3f} | {p['import']:.3f} | {p['build']:.3f} | {p['write']:.3f} |")


if __name__ == "__main__":
    main()
