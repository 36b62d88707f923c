"""Helpers shared by the reliability tests: real CLI processes, in-process CLI calls, and
exact comparisons of two run records (everything but wall-clock time)."""

from __future__ import annotations

import csv
import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np

from mlplab.cli import main

# One thread per process: the test machine is shared, and torch's thread pool only
# adds contention for these tiny models.
ENV = {**os.environ, "PYTHONUNBUFFERED": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
MLPLAB = [sys.executable, "-m", "mlplab"]

# Keys of result.json that legitimately differ between two runs of the same experiment.
VOLATILE = {"wall_time_s", "started_at", "finished_at", "log_path", "message", "error"}


def cli(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """``python -m mlplab ARGS`` as a real process."""
    return subprocess.run(
        [*MLPLAB, *map(str, args)], capture_output=True, text=True, env=ENV, timeout=timeout
    )


def call_main(argv: list[str]) -> int:
    """The CLI in this process; argparse's SystemExit becomes its exit status."""
    try:
        return main(argv)
    except SystemExit as e:
        return e.code if isinstance(e.code, int) else (0 if e.code is None else 2)


def assert_one_line(rc: int, stderr: str, *needles: str, code: int = 2) -> str:
    """Exit ``code``; stderr is one line starting with ``mlplab:``, and no traceback."""
    lines = [ln for ln in stderr.splitlines() if ln.strip()]
    assert rc == code, (rc, stderr)
    assert len(lines) == 1, stderr
    assert lines[0].startswith("mlplab:"), lines[0]
    assert "Traceback" not in stderr
    for n in needles:
        assert n in lines[0], (n, lines[0])
    return lines[0]


def run_dirs(log_path: Path) -> list[Path]:
    return sorted(p.parent for p in Path(log_path).rglob("config.yaml"))


def read_json(path: Path) -> dict[str, Any]:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def no_finished_run(log_path: Path) -> bool:
    """True when nothing under ``log_path`` looks like a finished run."""
    for p in Path(log_path).rglob("result.json"):
        try:
            if json.loads(p.read_text()).get("status") == "finished":
                return False
        except ValueError:
            continue
    return True


def scalars(run_dir: Path) -> dict[str, list[tuple[int, float]]]:
    """Every scalar in the run's TensorBoard files, per tag, in file order (duplicates kept)."""
    from tensorboard.backend.event_processing.event_file_loader import LegacyEventFileLoader

    out: dict[str, list[tuple[int, float]]] = {}
    for f in sorted(Path(run_dir).glob("events.out.tfevents.*")):
        for ev in LegacyEventFileLoader(str(f)).Load():
            if not ev.HasField("summary"):
                continue
            for v in ev.summary.value:
                if v.HasField("simple_value"):
                    out.setdefault(v.tag, []).append((ev.step, v.simple_value))
    return out


def assert_same_run(a: Path, b: Path) -> None:
    """Two run directories hold the same results, bit for bit, but for wall-clock time."""
    from mlplab.runs.checkpoint import load_checkpoint

    ra, rb = read_json(a / "result.json"), read_json(b / "result.json")
    assert ra["status"] == rb["status"] == "finished", (ra["status"], rb["status"])
    for k in sorted((set(ra) | set(rb)) - VOLATILE):
        assert ra.get(k) == rb.get(k), k
    assert (a / "metrics.csv").read_text() == (b / "metrics.csv").read_text()
    sa, sb = scalars(a), scalars(b)
    hp = {t for t in sa if t.startswith("hparam/")}
    assert {t: sa[t] for t in sa if t not in hp} == {t: sb[t] for t in sb if t not in hp}
    assert {t: [v for _, v in sa[t]] for t in hp} == {t: [v for _, v in sb[t]] for t in hp}
    for which in ("last", "best"):
        ca = load_checkpoint(a / "checkpoints" / f"{which}.safetensors")
        cb = load_checkpoint(b / "checkpoints" / f"{which}.safetensors")
        for section in ("model", "optim"):
            xa, xb = getattr(ca, section), getattr(cb, section)
            assert xa.keys() == xb.keys()
            for k in xa:
                np.testing.assert_array_equal(xa[k], xb[k], err_msg=f"{which} {section} {k}")
        assert ca.meta["loop"] == cb.meta["loop"]


def metrics_rows(run_dir: Path) -> list[dict[str, str]]:
    with (Path(run_dir) / "metrics.csv").open() as f:
        return list(csv.DictReader(f))


def cli_measured(*args: str, timeout: float = 60, cwd: Path | None = None) -> Measured:
    """``python -m mlplab ARGS`` as a real process, with its peak RSS and wall time.

    The peak is the child's own ``VmHWM`` (its high-water RSS since its exec), read from
    ``/proc`` every few milliseconds while it runs. ``ru_maxrss`` cannot serve: Linux
    carries the parent's high-water mark through fork and exec, so a child of a large
    test process would report the test process's size. A process still running after
    ``timeout`` seconds is killed, and reads as exit -9.
    """
    import tempfile
    import threading
    import time

    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(
            [*MLPLAB, *map(str, args)], stdout=out, stderr=err, env=ENV, cwd=cwd
        )
        timer = threading.Timer(timeout, proc.kill)
        timer.start()
        peak = [0.0]
        done = threading.Event()
        watcher = threading.Thread(target=_watch_hwm, args=(proc.pid, peak, done), daemon=True)
        watcher.start()
        try:
            _, status, _ = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
            done.set()
            watcher.join()
        seconds = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)  # reaped: Popen must not wait
        out.seek(0)
        err.seek(0)
        return Measured(
            proc.returncode,
            out.read().decode("utf-8", "replace"),
            err.read().decode("utf-8", "replace"),
            peak[0],
            seconds,
        )


def _watch_hwm(pid: int, peak: list[float], done: Any) -> None:
    """Keep in ``peak[0]`` the largest ``VmHWM`` (MiB) of process ``pid`` until ``done``."""
    import time

    while not done.is_set():
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peak[0] = max(peak[0], int(line.split()[1]) / 1024)  # kB
        except (OSError, ValueError):
            pass  # gone, or a zombie without memory lines
        time.sleep(0.005)


@dataclasses.dataclass
class Measured:
    returncode: int
    stdout: str
    stderr: str
    peak_mib: float
    seconds: float


def once(*words: str) -> list[str]:
    """``words`` with each flag kept at its last place only, its earlier values dropped.

    The CLI refuses a flag given twice; a test's own flags override those of its base
    command line (``once(*BASE, "--data", path)``), as the last value used to.
    """
    segments: list[list[str]] = []
    for word in words:
        if word.startswith("--") or not segments:
            segments.append([word])
        else:
            segments[-1].append(word)
    last = {seg[0].split("=", 1)[0]: i for i, seg in enumerate(segments)}
    return [
        word
        for i, seg in enumerate(segments)
        if not seg[0].startswith("--") or last[seg[0].split("=", 1)[0]] == i
        for word in seg
    ]
