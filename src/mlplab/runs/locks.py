"""Per-run locks, so that sweeps sharing a ``log_path`` never train the same run at once.

A sweep locks one byte of ``log_path/exp_name/.sweep.lock`` for every run it is about to
train (``fcntl.lockf`` at the offset given by the run's hash) and keeps the locks until it
ends. A second sweep started meanwhile skips the runs it cannot lock and trains the rest.
The kernel drops a process's locks when it dies, even by SIGKILL, so a crashed sweep
never leaves a run locked forever.

One file with byte-range locks rather than a lock file per run: creating a file costs
~0.5-0.9 ms of kernel time on ext4 here, a large share of a lab-sized run in a sweep.
POSIX record locks belong to the process (closing any descriptor of the file drops all of
them): the :class:`RunLocks` of one process share one descriptor per file.

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
import errno
import fcntl
import hashlib
import os
import threading
from pathlib import Path
from typing import IO, Any

from mlplab.errors import ConfigError


def lock_offset(run_id: str) -> int:
    """The byte that stands for ``run_id`` (``EXP-HASH``): its hash, read as hex.

    A folder a user renamed (``--resume my_best_run``) has no hash in its name; its byte
    comes from a digest of the name, the same in every process.
    """
    tail = run_id.rsplit("-", 1)[-1]
    try:
        # A leading 1 keeps the widths apart: abcdef and an 8-digit twin's 00abcdef are
        # two runs, not one byte.
        return int("1" + tail, 16)
    except ValueError:
        return int(hashlib.sha256(run_id.encode()).hexdigest()[:12], 16)


class _Shared:
    """This process's one descriptor of a lock file, and the bytes it holds on it."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            # Never through a link: one planted as .sweep.lock made every train create an
            # empty file wherever it pointed.
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_NOFOLLOW, 0o666)
            self.file: IO[Any] = os.fdopen(fd, "a+b")  # closed by the last user
        except OSError as err:
            if err.errno == errno.ELOOP:
                raise ConfigError(
                    f"setting 'exp_name': the lock file {str(path)!r} is a symbolic link "
                    "(mlplab makes it as a file of its own): remove the link"
                ) from None
            if isinstance(err, IsADirectoryError):
                # "Is a directory; the run stopped ... continues it", exit 1, for a run
                # that never started.
                raise ConfigError(
                    f"setting 'exp_name': the lock file {str(path)!r} is a folder (mlplab "
                    "makes it as an empty file of its own): remove that folder"
                ) from None
            if not isinstance(err, PermissionError):
                raise
            # Another user's, in a folder shared by a class (made with umask 022): it was
            # "Permission denied; the run stopped ... continues it", exit 1, with nothing
            # started and nothing to continue.
            raise ConfigError(
                f"setting 'exp_name': cannot open the lock file {str(path)!r} "
                f"({err.strerror}): another user made it; its owner can `chmod g+w` it (a "
                "folder shared by a group wants umask 002), or give another exp_name"
            ) from None
        self.held: set[int] = set()
        self.users = 0


# POSIX record locks belong to the process: a second descriptor of the file, closed, would
# drop every lock the process holds on it, and a byte the process holds locks again at
# once. So the RunLocks of one process (a sweep's, and a train() call's beside it in a
# notebook, or in a sweep's subscriber) share one descriptor per file, and a byte held by
# one of them is refused to the others.
_SHARED: dict[str, _Shared] = {}
_GUARD = threading.Lock()


class RunLocks:
    """The locks one sweep (or one ``train``) holds; release them with :meth:`release`
    (or ``with``)."""

    def __init__(self, folder: str | Path) -> None:
        self.path = Path(folder) / ".sweep.lock"
        self._key: str | None = None
        self._held: set[int] = set()

    def acquire(self, run_id: str) -> bool:
        """Lock ``run_id`` without waiting; False if another process, or another of this
        process's RunLocks, holds it."""
        offset = lock_offset(run_id)
        with _GUARD:
            if self._key is None:
                key = os.path.realpath(self.path)
                if key not in _SHARED:
                    _SHARED[key] = _Shared(self.path)
                _SHARED[key].users += 1
                self._key = key
            shared = _SHARED[self._key]
            if offset in shared.held:
                return offset in self._held
            try:
                fcntl.lockf(shared.file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB, 1, offset)
            except OSError as err:
                if err.errno in (errno.EAGAIN, errno.EACCES):  # held by another process
                    return False
                # A file system without locks (some NFS and Lustre mounts: ENOLCK,
                # EOPNOTSUPP) is no busy run: taken for one, `train` exited 75 ("try
                # again later") forever and a sweep trained nothing.
                raise ConfigError(
                    f"log_path: cannot lock runs in {str(self.path.parent)!r} "
                    f"({err.strerror or err}): its file system takes no file locks; give a "
                    "log_path on one that does (a local disk), or, in Python, "
                    "train(lock=False) where nothing else trains the same runs"
                ) from None
            shared.held.add(offset)
            self._held.add(offset)
            return True

    def release(self) -> None:
        with _GUARD:
            if self._key is None:
                return
            shared = _SHARED[self._key]
            for offset in self._held:
                with contextlib.suppress(OSError):
                    fcntl.lockf(shared.file.fileno(), fcntl.LOCK_UN, 1, offset)
                shared.held.discard(offset)
            shared.users -= 1
            if shared.users == 0:
                with contextlib.suppress(OSError):
                    shared.file.close()
                del _SHARED[self._key]
            self._key, self._held = None, set()

    def __enter__(self) -> RunLocks:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.release()


def held_elsewhere(folder: str | Path, run_ids: list[str]) -> set[str]:
    """The runs of ``run_ids`` that another process holds the lock of, found without
    writing: where no sweep has made ``folder/.sweep.lock``, none; each lock taken is
    given back at once (for ``mlplab sweep --dry_run``)."""
    if not (Path(folder) / ".sweep.lock").is_file():
        return set()
    try:
        with RunLocks(folder) as locks:
            return {run_id for run_id in run_ids if not locks.acquire(run_id)}
    except (OSError, ConfigError):  # a folder it may not lock in: the sweep will say so
        return set()
