"""Run locks against a second process, as two sweeps on one log_path meet them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from mlplab.runs.locks import RunLocks

OTHER = """
import sys
from mlplab.runs.locks import RunLocks
locks = RunLocks(sys.argv[1])
print(",".join(str(locks.acquire(r)) for r in sys.argv[2:]))
"""


def other_process_takes(folder: Path, *run_ids: str) -> list[bool]:
    out = subprocess.run(
        [sys.executable, "-c", OTHER, str(folder), *run_ids],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return [x == "True" for x in out.strip().split(",")]


def test_a_held_run_is_refused_to_another_process_and_freed_on_release(tmp_path):
    locks = RunLocks(tmp_path)
    assert locks.acquire("exp-00a1b2") and locks.acquire("exp-ffffff")
    assert other_process_takes(tmp_path, "exp-00a1b2", "exp-00a1b3", "exp-ffffff") == [
        False,
        True,
        False,
    ]
    locks.release()
    assert other_process_takes(tmp_path, "exp-00a1b2", "exp-ffffff") == [True, True]
    assert list(tmp_path.iterdir()) == [tmp_path / ".sweep.lock"]  # one file, not one per run
