"""Overhead of ``mlplab sweep --backend ray`` against the local backend on the W5 sweep.

Both are timed as whole commands (fresh processes, imports included), on the same grid,
each into its own empty ``log_path``. With no ``--address`` the Ray backend starts a
private local Ray instance and stops it at the end, so its start-up is part of the cost.

    python benchmarks/bench_ray.py                    # W5: 4 lrs x 64 seeds, 10001 steps
    python benchmarks/bench_ray.py --seeds 8 --epoch 2001   # a quick check
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid

from common import load_note, machine_note, table


def sweep_cmd(log_path: str, backend: str, seeds: int, epoch: int) -> list[str]:
    return [
        sys.executable, "-m", "mlplab", "sweep", "--backend", backend,
        "--config", "examples/xor_nn.yaml",  # the W5 sweep of bench_sweep.py
        "--lr", "0.1", "0.5", "1", "2", "--seed", *map(str, range(seeds)), "--epoch", str(epoch),
        "--plots", "none", "--no_report", "--quiet",
        "--exp_name", "w5", "--log_path", log_path,
    ]  # fmt: skip


def timed(cmd: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd[:6])} failed:\n{proc.stdout}\n{proc.stderr}")
    return time.perf_counter() - start


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", type=int, default=64)
    p.add_argument("--epoch", type=int, default=10001)
    args = p.parse_args()
    root = tempfile.mkdtemp(prefix="mlb")
    # A throwaway token and temp dir: nothing is left in ~/.ray or /tmp/ray.
    env = {**os.environ, "RAY_TMPDIR": root, "RAY_AUTH_MODE": "token",
           "RAY_AUTH_TOKEN": uuid.uuid4().hex * 2, "RAY_USAGE_STATS_ENABLED": "0"}  # fmt: skip
    env.pop("RAY_ADDRESS", None)
    rows = []
    try:
        times = {}
        for backend in ("local", "ray"):
            times[backend] = timed(
                sweep_cmd(os.path.join(root, backend), backend, args.seeds, args.epoch), env
            )
        n = 4 * args.seeds
        for backend in ("local", "ray"):
            rows.append([f"`mlplab sweep --backend {backend}`", f"{times[backend]:.1f}",
                         f"{times[backend] / times['local']:.2f}x", f"{times[backend] - times['local']:+.1f}"])  # fmt: skip
    finally:
        shutil.rmtree(root, ignore_errors=True)
    print(machine_note())
    print(
        f"\n### Ray overhead: {n} xor-nn configs (4 lrs x {args.seeds} seeds), {args.epoch} steps, --plots none\n"
    )
    print(table(["command (whole process)", "s", "vs local", "added s"], rows))
    print(f"\n({load_note()})")


if __name__ == "__main__":
    main()
