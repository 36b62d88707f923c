"""Per-run locks, so that sweeps sharing a ``log_path`` never train the same run at once.

A sweep takes an exclusive ``flock`` on ``log_path/exp_name/.locks/RUN_ID.lock`` for every
run it is about to train, and keeps it until it ends. A second sweep started meanwhile
skips the runs it cannot lock and trains the rest. The kernel drops a lock when its
process dies, even by SIGKILL, so a crashed sweep never leaves a run locked forever.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path
from typing import IO, Any


class RunLocks:
    """The locks one sweep holds; release them with :meth:`release` (or ``with``)."""

    def __init__(self, folder: str | Path) -> None:
        self.dir = Path(folder) / ".locks"
        self._held: dict[str, IO[Any]] = {}

    def acquire(self, run_id: str) -> bool:
        """Lock ``run_id`` without waiting; False if another process holds it."""
        self.dir.mkdir(parents=True, exist_ok=True)
        f = open(self.dir / f"{run_id}.lock", "a+")  # noqa: SIM115 - held until release()
        try:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            f.close()
            return False
        f.seek(0)
        f.truncate()
        f.write(f"{os.getpid()}\n")  # who holds it, for a person looking at the folder
        f.flush()
        self._held[run_id] = f
        return True

    def release(self) -> None:
        for f in self._held.values():
            with contextlib.suppress(OSError):
                f.close()  # closing the file drops its flock
        self._held.clear()

    def __enter__(self) -> RunLocks:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.release()
