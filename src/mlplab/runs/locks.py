"""Per-run locks, so that sweeps sharing a ``log_path`` never train the same run at once.

A sweep locks one byte of ``log_path/exp_name/.sweep.lock`` for every run it is about to
train (``fcntl.lockf`` at the offset given by the run's hash) and keeps the locks until it
ends. A second sweep started meanwhile skips the runs it cannot lock and trains the rest.
The kernel drops a process's locks when it dies, even by SIGKILL, so a crashed sweep
never leaves a run locked forever.

One file with byte-range locks rather than a lock file per run: creating a file costs
~0.5-0.9 ms of kernel time on ext4 here, a large share of a lab-sized run in a sweep.
POSIX record locks belong to the process, so one process holds one :class:`RunLocks` per
folder at a time (closing any descriptor of the file drops all of its locks).

The file stays once the sweep ends: an empty ``.sweep.lock`` that the next sweep on the
folder opens again. Removing it on release would break the mutual exclusion. The locks
belong to the file (its inode), not to its name: were sweep A to unlink it while sweep B
holds runs on it, sweep C would create a new ``.sweep.lock`` and lock B's runs there, and
B and C would train the same run at once. Removing it safely would take a lock on the whole
file before the unlink and, in every acquire, a check that the name still leads to the
file locked (and a retry when not); a sweep of an earlier mlplab, which makes no such
check, on the same folder would still be fooled. An empty file is cheaper than that.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
from pathlib import Path
from typing import IO, Any


def lock_offset(run_id: str) -> int:
    """The byte that stands for ``run_id`` (``EXP-HASH``): its hash, read as hex.

    A folder a user renamed (``--resume my_best_run``) has no hash in its name; its byte
    comes from a digest of the name, the same in every process.
    """
    tail = run_id.rsplit("-", 1)[-1]
    try:
        return int(tail, 16)
    except ValueError:
        return int(hashlib.sha256(run_id.encode()).hexdigest()[:12], 16)


class RunLocks:
    """The locks one sweep holds; release them with :meth:`release` (or ``with``)."""

    def __init__(self, folder: str | Path) -> None:
        self.path = Path(folder) / ".sweep.lock"
        self._f: IO[Any] | None = None

    def acquire(self, run_id: str) -> bool:
        """Lock ``run_id`` without waiting; False if another process holds it."""
        if self._f is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._f = open(self.path, "a+b")  # noqa: SIM115 - held until release()
        try:
            fcntl.lockf(self._f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB, 1, lock_offset(run_id))
        except OSError:  # EAGAIN or EACCES: held by another process
            return False
        return True

    def release(self) -> None:
        if self._f is not None:
            with contextlib.suppress(OSError):
                self._f.close()  # closing the file drops every lock this process holds on it
            self._f = None

    def __enter__(self) -> RunLocks:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.release()
