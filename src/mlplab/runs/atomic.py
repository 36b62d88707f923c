"""Atomic file writes: temp file in the same folder, rename.

A killed process (even SIGKILL) leaves the page cache, and with it the rename, in place,
so no write needs an fsync to survive a kill. Checkpoints, which a resume depends on, are
also fsynced before the rename (``durable=True``): after an OS crash, the newest rename
may be lost, but the previous complete checkpoint is still there. The other files of a
record are not (each fsync cost ~0.3 ms, a third of a lab-sized sweep's time per run);
an OS crash may leave one of them empty, which reads as "not finished", and a sweep run
again trains that run again.

A reader (or a process killed with SIGKILL mid-write) sees either the old file or the
new one, never half of one.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import shutil
import stat
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any


@contextlib.contextmanager
def atomic_open(
    path: str | os.PathLike[str], mode: str = "w", durable: bool = False
) -> Iterator[IO[Any]]:
    path = Path(path)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except FileNotFoundError:  # the folder first; not up front: a mkdir costs ~0.1 ms here
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        # mkstemp makes the file private (0600); a record is as readable as any file the
        # user creates (TensorBoard or a report run by someone else must read it).
        os.chmod(tmp, 0o666 & ~_umask())
        with os.fdopen(fd, mode, encoding=None if "b" in mode else "utf-8") as f:
            yield f
            if durable:
                f.flush()
                os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException as err:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        if isinstance(err, OSError) and err.filename is None:
            err.filename = str(path)  # a full disk's write names no file: this one
        raise


def why_not_replaceable(path: str | os.PathLike[str]) -> str | None:
    """Why an atomic write would wrongly replace ``path``, or None if it may.

    A rename replaces a file its owner made read-only (mode 0444) as readily as any other,
    and fails on a folder only after the other files of a set were written: a user's
    output (predictions, a report) is checked first. A file with no write permission for
    anyone counts as protected for root too, as ``rm`` asks before removing one.
    """
    if os.path.isdir(path):
        return "Is a directory"
    try:
        st = os.stat(path)
        folder = os.stat(os.path.dirname(os.path.abspath(path)))
    except OSError:
        return None  # nothing there (or not ours to read): the write itself says why
    mode = st.st_mode
    if not mode & 0o222:
        return "Permission denied: the file is read-only"
    euid = os.geteuid() if hasattr(os, "geteuid") else None
    if folder.st_mode & stat.S_ISVTX and euid not in (None, 0, st.st_uid, folder.st_uid):
        # A shared folder with the sticky bit (chmod +t): only a file's owner replaces it,
        # which the write found only after the others of its set (exit 1, no hint).
        return "Permission denied: another user's file, in a folder with the sticky bit"
    if not os.access(path, os.W_OK):
        # Another user's file in a shared folder (0644): not read-only to its owner.
        return "Permission denied: this user may not write the file"
    return None


def atomic_write_text(path: str | os.PathLike[str], text: str) -> None:
    with atomic_open(path, "w") as f:
        f.write(text)


def atomic_write_json(path: str | os.PathLike[str], obj: Any) -> None:
    atomic_write_text(path, json_text(obj))


def json_text(obj: Any) -> str:
    """JSON with one top-level key per line, each value on its line.

    Readable (settings and results line up as ``"key": value``) and fast: every value is
    encoded by json's C encoder, whereas ``indent=`` switches the whole document to the
    pure-Python encoder, which cost ~75 ms for a run with 10,000-epoch curves.
    """
    if not isinstance(obj, dict) or not obj:
        return json.dumps(obj, default=json_default) + "\n"
    dumps = json.JSONEncoder(default=json_default, separators=(", ", ": ")).encode
    lines = [f"  {dumps(str(k))}: {dumps(v)}" for k, v in obj.items()]
    return "{\n" + ",\n".join(lines) + "\n}\n"


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes, durable: bool = False) -> None:
    with atomic_open(path, "wb", durable) as f:
        f.write(data)


def atomic_write_stream(
    path: str | os.PathLike[str], write: Callable[[IO[bytes]], None], durable: bool = False
) -> None:
    """``write(f)`` fills the file piece by piece; it then replaces ``path`` atomically."""
    with atomic_open(path, "wb", durable) as f:
        write(f)


@functools.cache
def _umask() -> int:
    # Reading the umask means setting it; done once, and set straight back.
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def json_default(o: Any) -> Any:
    """``json.dumps``'s ``default``: NumPy scalars and arrays as Python numbers and lists."""
    import numpy as np

    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, Path):
        return str(o)
    raise TypeError(f"not JSON serializable: {type(o).__name__}")


def link_replace(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> bool:
    """Make ``dst`` a hard link to ``src``, atomically replacing ``dst``.

    Returns False (and changes nothing) where the filesystem has no hard links; the
    caller then writes ``dst`` itself. Later atomic writes of ``src`` replace its
    directory entry, not the shared file, so ``dst`` keeps its content.
    """
    dst = Path(dst)
    tmp = dst.with_name(f".{dst.name}.{os.getpid()}.link.tmp")  # .tmp: a resume clears it
    try:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        os.link(src, tmp)
        os.replace(tmp, dst)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        return False
    return True


def replace_dir(new: Path, dest: Path, aside: Path) -> None:
    """Put the folder ``new`` in the place of ``dest`` by renames only.

    A ``dest`` already there is renamed to ``aside`` first (and put back if ``new`` cannot
    follow), then ``new`` into place, then ``aside`` is removed: a reader sees the old
    folder, the new one or, for the instant between the two renames, none; never a mix.
    """
    moved = dest.exists()
    if moved:
        os.replace(dest, aside)
    try:
        os.replace(new, dest)
    except BaseException:
        if moved:
            os.replace(aside, dest)
        raise
    if moved:
        shutil.rmtree(aside, ignore_errors=True)
