"""Records at scale: W5 as a user types it, and a 10,000-config sweep of tiny runs.

Run from the repository root::

    python benchmarks/bench_records.py --w5      # W5 with its report vs one plain torch run
    python benchmarks/bench_records.py --scale   # 10 seeds x 1,000 lrs, --epoch 200 on xor
    python benchmarks/bench_records.py --scale --lrs 100   # a 1,000-config check

Each sweep runs as a whole ``mlplab sweep`` command (process start, imports, workers,
records, the report it writes by default), then ``mlplab report`` of its folder runs on
its own. For each command the table gives:

- wall seconds;
- peak RSS: VmHWM of every process of the command's tree, read from /proc every 0.1 s;
  "largest" is the largest single process, "tree" the largest sum of VmRSS over the
  processes alive at one moment (the sweep and its workers). (wait4's ru_maxrss is no
  measure here: Linux carries the high-water mark of the process forked from this one,
  which has torch loaded, over its exec, so a child running /bin/true reported 533 MiB.)
- bytes written: the apparent size of every file under the sweep's folder, a file with
  several hard links (best and last checkpoints) counted once, as ``du -sb`` counts.

W5 is compared with one plain PyTorch xor-nn run (lab 08-2, 10001 steps), timed in this
process with torch imported beforehand.

Goals (records issue): W5 with its report <= 2x one plain torch run, its records
<= 40 MB; 10,000 configs: peak RSS <= 2 GiB, ``mlplab report`` <= 15 s.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import keep_or_remove, load_note, machine_note, measure, plain_torch_xor, table

MLPLAB = [sys.executable, "-m", "mlplab"]
W5 = (
    "--data xor --n_layer 1 --hid_dim 2 --act sigmoid --optim sgd --lr 0.3 0.6 1 2 "
    "--seed {seeds} --epoch 10001 --batch_size 4 --log_every 0 --plots none"
)


def _kib(pid: int, field: str) -> int:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def _tree(root: int) -> list[int]:
    """``root`` and every process descended from it, from /proc/*/stat."""
    parent: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    # comm may hold spaces: the ppid is the 2nd field after its ')'.
                    parent[int(entry)] = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    found, frontier = [root], [root]
    while frontier:
        frontier = [p for p, pp in parent.items() if pp in frontier]
        found += frontier
    return found


class Measured:
    def __init__(self, wall: float, code: int, largest: int, tree: int, tail: str):
        self.wall, self.code, self.tail = wall, code, tail
        self.largest_mib, self.tree_mib = largest / 1024, tree / 1024


def run_measured(cmd: list[str], timeout: float) -> Measured:
    """Run ``cmd``; its wall time, exit code and peak memory (see the module docstring)."""
    t0 = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out:
        p = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, text=True)
        peak: dict[int, int] = {}
        tree_peak = 0
        while True:
            pid, status, _ = os.wait4(p.pid, os.WNOHANG)
            if pid:
                break
            pids = _tree(p.pid)
            for q in pids:
                peak[q] = max(peak.get(q, 0), _kib(q, "VmHWM"))
            tree_peak = max(tree_peak, sum(_kib(q, "VmRSS") for q in pids))
            if time.perf_counter() - t0 > timeout:
                p.kill()
            time.sleep(0.1)
        wall = time.perf_counter() - t0
        p.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        tail = out.read()[-600:]
    return Measured(wall, p.returncode, max(peak.values(), default=0), tree_peak, tail)


def bytes_written(folder: Path) -> tuple[int, int, dict[str, int]]:
    """Apparent bytes (hard links once), file count, and bytes by file name pattern."""
    seen: set[tuple[int, int]] = set()
    total = files = 0
    by_kind: dict[str, int] = {}
    for dirpath, _, names in os.walk(folder):
        for name in names:
            st = os.lstat(os.path.join(dirpath, name))
            if (st.st_dev, st.st_ino) in seen:
                continue
            seen.add((st.st_dev, st.st_ino))
            total += st.st_size
            files += 1
            kind = "events.out.tfevents" if name.startswith("events.out") else name
            by_kind[kind] = by_kind.get(kind, 0) + st.st_size
    return total, files, by_kind


def sweep_rows(
    label: str, args: list[str], root: Path, timeout: float, ref: float | None
) -> tuple[list[list[object]], str]:
    log = root / label.split()[0]
    shutil.rmtree(log, ignore_errors=True)
    m = run_measured([*MLPLAB, "sweep", *args, "--log_path", str(log), "--quiet"], timeout)
    total, files, kinds = bytes_written(log)
    r = run_measured([*MLPLAB, "report", str(log / "exp")], timeout)
    vs = f"{m.wall / ref:.2f}x" if ref else ""
    rows = [
        [
            f"`mlplab sweep` {label}, report included",
            m.wall,
            vs,
            f"{m.largest_mib:.0f}",
            f"{m.tree_mib:.0f}",
            f"{total / 1e6:.1f} MB in {files} files",
            f"exit {m.code}" + ("" if m.code == 0 else f": {m.tail[-300:]!r}"),
        ],
        [
            "`mlplab report` of it, alone",
            r.wall,
            f"{r.wall / ref:.2f}x" if ref else "",
            f"{r.largest_mib:.0f}",
            f"{r.tree_mib:.0f}",
            "",
            f"exit {r.code}" + ("" if r.code == 0 else f": {r.tail[-300:]!r}"),
        ],
    ]
    top = sorted(kinds.items(), key=lambda kv: -kv[1])[:8]
    detail = ", ".join(f"{k} {v / 1e6:.1f} MB" for k, v in top)
    return rows, f"{label}: {detail}"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--w5", action="store_true", help="W5 as typed in the records issue")
    p.add_argument("--scale", action="store_true", help="the 10,000-config sweep")
    p.add_argument("--lrs", type=int, default=1000, help="lrs of the scale sweep (x 10 seeds)")
    p.add_argument("--repeats", type=int, default=3, help="plain torch runs (median)")
    p.add_argument("--timeout", type=float, default=3600)
    p.add_argument("--keep", action="store_true", help="keep the records (path printed)")
    args = p.parse_args()
    if not (args.w5 or args.scale):
        p.error("choose --w5, --scale or both")
    print(f"Machine: {machine_note()}\n")
    root = Path(tempfile.mkdtemp(prefix="mlplab-records-"))
    headers = [
        "what",
        "wall s",
        "vs one plain torch run",
        "peak RSS MiB, largest process",
        "peak RSS MiB, tree",
        "written",
        "notes",
    ]
    rows: list[list[object]] = []
    notes = []
    if args.w5:
        plain_torch_xor(steps=10)  # torch's lazy imports and first calls
        ref = measure(lambda: plain_torch_xor(steps=10001), args.repeats)
        rows.append(
            ["plain torch xor-nn, one run (reference)", ref.median, "1.00x", "", "", "", ""]
        )
        w5 = W5.format(seeds=" ".join(str(s) for s in range(64))).split()
        got, note = sweep_rows("W5 (256 configs)", w5, root, args.timeout, ref.median)
        rows += got
        notes.append(note)
    if args.scale:
        lrs = [f"{x:.6g}" for x in np.geomspace(0.01, 10.0, args.lrs)]
        scale = [
            "--data", "xor", "--epoch", "200", "--lr", *lrs, "--seed", *map(str, range(10)),
            "--plots", "none",
        ]  # fmt: skip
        n = 10 * args.lrs
        got, note = sweep_rows(f"scale ({n} configs)", scale, root, args.timeout, None)
        rows += got
        notes.append(note)
    print(table(headers, rows))
    print("\nLargest files by name: " + "; ".join(notes))
    print(f"\n({load_note()} after)")
    keep_or_remove(root, args.keep)


if __name__ == "__main__":
    main()
