"""Sweep workloads W5 (time) and W6 (memory): 256 xor-nn configs, 4 lrs x 64 seeds.

Run from the repository root::

    python benchmarks/bench_sweep.py              # in-process and fresh-process batched runs
    python benchmarks/bench_sweep.py --cli        # also the `mlplab sweep` command itself
    python benchmarks/bench_sweep.py --epoch 1001 # a shorter check

Rows:

- the reference: one plain PyTorch xor-nn run (lab 08-2), median of the repeats;
- ``train_batched(..., curves_in_results=False)`` (as a sweep calls it: statuses only; the
  curves are in each result.json) in this process (imports done before timing), with its phases: build
  the stack, open 256 run records, train, and finish 256 records (final evaluation,
  checkpoints, metrics.csv, TensorBoard, result.json);
- the same call in a fresh Python process (imports included), whose peak RSS is W6;
- with ``--cli``: ``mlplab sweep --config examples/xor_nn.yaml --lr ... --seed ... --plots none``,
  the whole command (process start, imports, sweep, records), once with ``--no_report``
  and once with the report it writes by default.

Peak RSS is ``ru_maxrss`` of the command's process tree as seen by a small wrapper
process (the largest single process of the tree); the sweep's local workers are children
too, so for a multi-process sweep it is a lower bound of the tree's total.

Goals: W5 whole sweep <= 2x one plain torch xor-nn run; W6 peak RSS <= 1 GiB.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import keep_or_remove, load_note, machine_note, measure, plain_torch_xor, table

LRS = (0.1, 0.5, 1.0, 2.0)
ROOT = Path(__file__).resolve().parent.parent


def configs(epoch: int, seeds: int, log_path: str) -> list[dict]:
    base = {
        "data": "xor",
        "n_layer": 1,
        "hid_dim": 2,
        "act": "sigmoid",
        "optim": "sgd",
        "epoch": epoch,
        "log_every": 100,
        "validate_every": 100,  # as examples/xor_nn.yaml: the lab logs its cost every 100 steps
        "plots": "none",
        "log_path": log_path,
        "exp_name": "w5",
    }
    return [{**base, "lr": lr, "seed": s} for lr in LRS for s in range(seeds)]


# A small fresh Python runs the command and reports its children's peak RSS. Measured
# from this (large, torch-importing) process instead, a forked child would count the
# parent's pages it starts with.
WRAPPER = (
    "import resource, subprocess, sys; p = subprocess.run(sys.argv[1:]); "
    "print('MAXRSS_KIB', resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); "
    "sys.exit(p.returncode)"
)


def run_child(cmd: list[str], timeout: float) -> tuple[float, float, int, str]:
    """Wall seconds, peak RSS in MiB (largest process of the tree), exit code, output tail."""
    t = time.perf_counter()
    rss = float("nan")
    try:
        p = subprocess.run(
            [sys.executable, "-c", WRAPPER, *cmd],
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=ROOT,
        )
        code, out = p.returncode, p.stdout + p.stderr
        for line in p.stdout.splitlines():
            if line.startswith("MAXRSS_KIB"):
                rss = int(line.split()[1]) / 1024
        tail = out[-400:]
    except subprocess.TimeoutExpired:
        code, tail = -1, f"timed out after {timeout:.0f} s"
    return time.perf_counter() - t, rss, code, tail


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--epoch", type=int, default=10001)
    p.add_argument("--seeds", type=int, default=64)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--cli", action="store_true", help="also time the `mlplab sweep` command")
    p.add_argument("--timeout", type=float, default=600, help="seconds allowed per subprocess")
    p.add_argument("--keep", action="store_true", help="keep the run records (printed path)")
    p.add_argument(
        "--threads", type=int, default=0, help="torch.set_num_threads (0: torch's default)"
    )
    p.add_argument(
        "--tb_points",
        type=int,
        default=200,
        help="train_batched's cap on TensorBoard curve points",
    )
    args = p.parse_args()
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)

    from mlplab import stacks as batched

    print(f"Machine: {machine_note()}\n")
    n = len(LRS) * args.seeds
    root = Path(tempfile.mkdtemp(prefix="mlplab-w5-"))

    plain_torch_xor(steps=10)  # torch's lazy imports and first calls are not the loop's time
    ref = measure(lambda: plain_torch_xor(steps=args.epoch), args.repeats)

    # --- train_batched in this process -----------------------------------------------------------
    batched.train_batched(configs(3, 4, str(root / "warm")))  # imports and first calls
    phases = []

    def in_process() -> list[dict]:
        out = batched.train_batched(
            configs(args.epoch, args.seeds, str(root / "inproc")),
            curves_in_results=False,
            tb_points=args.tb_points,
        )
        phases.append(dict(batched.LAST_TIMINGS))
        return out

    inproc = measure(in_process, args.repeats)
    results = inproc.value
    finished = sum(r["status"] == "finished" for r in results)
    acc1 = sum(r["test_acc"] == 1.0 for r in results)
    ph = {k: sorted(p[k] for p in phases)[len(phases) // 2] for k in phases[0]}

    # --- a fresh process: imports included, and its peak RSS (W6) ---------------------------------
    script = (
        "import json,sys; from mlplab.stacks import train_batched; "
        f"sys.path.insert(0, {str(ROOT / 'benchmarks')!r}); from bench_sweep import configs; "
        f"r = train_batched(configs({args.epoch}, {args.seeds}, {str(root / 'fresh')!r}), "
        f"curves_in_results=False, tb_points={args.tb_points}); "
        "print(json.dumps([x['status'] for x in r]))"
    )
    fresh_wall, fresh_rss, code, tail = run_child([sys.executable, "-c", script], args.timeout)

    rows = [
        ["plain torch xor-nn, one run (reference)", ref.median, ref.spread(), "1.00x", ""],
        [
            f"train_batched, {n} configs, in-process",
            inproc.median,
            inproc.spread(),
            f"{inproc.median / ref.median:.2f}x",
            f"{finished}/{n} finished, {acc1}/{n} with test acc 1.0",
        ],
        [
            "  of which: build the stack",
            ph["build_s"],
            "",
            f"{ph['build_s'] / ref.median:.2f}x",
            "",
        ],
        [
            "  of which: train (the stacked engine and the loop)",
            ph["train_s"],
            "",
            f"{ph['train_s'] / ref.median:.2f}x",
            "",
        ],
        [
            f"  of which: the {n} run records (subscribers)",
            ph["records_s"],
            "",
            f"{ph['records_s'] / ref.median:.2f}x",
            "config.yaml, result.json, curves.npz, metrics.csv, checkpoints, TensorBoard",
        ],
        [
            f"train_batched, {n} configs, fresh process (imports included)",
            fresh_wall,
            "",
            f"{fresh_wall / ref.median:.2f}x",
            f"peak RSS {fresh_rss:.0f} MiB; exit {code}",
        ],
    ]
    if args.cli:
        seeds = [str(s) for s in range(args.seeds)]
        cmd = [
            str(Path(sys.executable).parent / "mlplab"),
            "sweep",
            "--config", "examples/xor_nn.yaml",
            "--lr", *[str(x) for x in LRS],
            "--seed", *seeds,
            "--epoch", str(args.epoch),
            "--plots", "none",
            "--log_path", str(root / "cli"),
            "--exp_name", "w5",
            "--quiet",
        ]  # fmt: skip
        for label, extra in (
            ("`mlplab sweep ... --no_report` (whole process)", ["--no_report"]),
            ("`mlplab sweep` (whole process, with its report of 256 runs)", []),
        ):
            shutil.rmtree(root / "cli", ignore_errors=True)
            wall, rss, code, tail = run_child([*cmd, *extra], args.timeout)
            note = f"peak RSS {rss:.0f} MiB"
            rows.append(
                [
                    label,
                    wall,
                    "",
                    f"{wall / ref.median:.2f}x",
                    f"{note}; exit {code}" + ("" if code == 0 else f": {tail.strip()[-200:]!r}"),
                ]
            )
    print(
        f"### W5/W6 sweep: {n} xor-nn configs ({len(LRS)} lrs x {args.seeds} seeds), "
        f"{args.epoch} full-batch steps each, --plots none, tb_points {args.tb_points}\n\n"
        + table(["what", "s (median)", "min-max s", "vs one plain torch run", "notes"], rows)
        + f"\n\n({load_note()} after)"
    )
    keep_or_remove(root, args.keep)


if __name__ == "__main__":
    main()
