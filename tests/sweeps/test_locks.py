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


HOLDER = """
import sys
from mlplab.runs.locks import RunLocks
locks = RunLocks(sys.argv[1])
print(locks.acquire(sys.argv[2]), flush=True)
sys.stdin.read()  # held until the test closes our stdin
"""


def test_the_lock_file_stays_when_a_sweep_releases_so_a_third_is_still_refused(tmp_path):
    """Sweep B holds a run; sweep A, on the same folder, ends. The file the locks live on
    stays (they belong to it, not to its name), so a sweep C started next is refused B's
    run instead of locking it on a new file and training it at the same time as B."""
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(tmp_path), "exp-00b000"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "True"
        a = RunLocks(tmp_path)
        assert a.acquire("exp-00a000") and not a.acquire("exp-00b000")
        inode = (tmp_path / ".sweep.lock").stat().st_ino
        a.release()
        assert (tmp_path / ".sweep.lock").stat().st_ino == inode
        assert other_process_takes(tmp_path, "exp-00b000", "exp-00a000") == [False, True]
    finally:
        holder.communicate(timeout=30)  # closes its stdin (it ends) and its stdout
    assert other_process_takes(tmp_path, "exp-00b000") == [True]
