"""A run's curves: every validation in a compact binary file, at most ~250 points in text.

A 10001-epoch run validated every epoch has 10001 points per curve. As JSON and CSV text
they cost ~1.3 MB per run, which a 256-run sweep multiplies into hundreds of megabytes
and seconds of encoding. So the record keeps:

- ``curves.npz`` beside ``result.json``: every validation's values, float64, compressed,
  one array per curve (``val_epochs`` and the curves of result.json by name);
- ``result.json`` and ``metrics.csv``: at most about :data:`TEXT_POINTS` points per
  curve, evenly spaced and always with the last (TensorBoard shows 1,000 by default);
  ``result.json`` says so in ``curves_thinned`` and names the file with every point.

:func:`read_curves` returns the full curves of a run from either record.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from mlplab.config import open_regular
from mlplab.data.npy import unpacked_bytes
from mlplab.errors import CheckpointError
from mlplab.runs.atomic import atomic_write_bytes

CURVES_FILE = "curves.npz"
# Enough to draw a curve; at 500 a 256-run sweep of 10,001 epochs wrote 45 MB, at 250 it
# writes 38 MB (BENCHMARKS.md, "Records at scale"), most of it the full curves in curves.npz.
TEXT_POINTS = 250
# What a record's .npz file may unpack into (:func:`load_npz`): MIN_UNPACKED bytes, plus
# so many bytes per byte of the file. curves.npz and the sweep tables are deflated at zlib
# level 1, which packs at most 229 bytes into one (a run of zeros); a 100,000-epoch run's
# curves.npz unpacks 4.8 MB from 0.7 MB, its constant curves (lrs, accuracy 1.0) 183:1.
# So no file mlplab wrote is refused, while a zip bomb is: deflate's own best, 1032:1,
# unpacks a 3 MB file into 3 GB. The snapshot files are written unpacked (np.savez),
# STORED: an array there takes no more than the file. MIN_UNPACKED, 64 MiB, covers any
# small file (8 million points of a curve), level 6 files of older records included.
MIN_UNPACKED = 64 << 20
DEFLATED = 256
STORED = 1


def thin_indices(n: int, points: int = TEXT_POINTS) -> np.ndarray:
    """Indices of at most about ``points`` of ``n`` evenly spaced points, the last included."""
    if n <= points:
        return np.arange(n)
    every = -(-n // points)
    idx = np.arange(0, n, every)
    return idx if idx[-1] == n - 1 else np.append(idx, n - 1)


def curve_names(record: dict[str, Any]) -> list[str]:
    """The curve keys of a result.json (lists aligned with ``val_epochs``)."""
    n = len(record.get("val_epochs") or [])
    return [
        k
        for k, v in record.items()
        if isinstance(v, list) and len(v) == n and k != "val_epochs" and k.endswith("s")
    ]


def write_curves(run_dir: Path, arrays: dict[str, np.ndarray]) -> dict[str, Any]:
    """Write every point of ``arrays`` (``val_epochs`` int64 and each curve float64) to
    curves.npz; returns what a checkpoint keeps to name them: the file, their count,
    their SHA-256."""
    atomic_write_bytes(Path(run_dir) / CURVES_FILE, npz_bytes(arrays))
    return {"file": CURVES_FILE, "points": len(arrays["val_epochs"]), "sha256": _digest(arrays)}


def npz_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    """``arrays`` as a compressed .npz (``numpy.load`` reads it), at zlib level 1:
    savez_compressed's level 6 took 4x as long for 2% smaller curves (float noise)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        for k, a in arrays.items():
            with z.open(f"{k}.npy", "w", force_zip64=True) as f:
                np.lib.format.write_array(f, np.asanyarray(a), allow_pickle=False)
    return buf.getvalue()


def saved_curves(run_dir: Path, ref: dict[str, Any]) -> dict[str, np.ndarray] | None:
    """The first ``ref["points"]`` of the run's curves, if curves.npz still holds those
    exact points (it is written before each checkpoint, so it may hold more); else None."""
    try:  # untrusted bytes: missing, damaged or not an .npz all read as "not there"
        cut = {k: a[: ref["points"]] for k, a in read_npz(Path(run_dir) / CURVES_FILE).items()}
        return cut if _digest(cut) == ref["sha256"] else None
    except Exception:
        return None


def read_npz(path: Path, ratio: int = DEFLATED) -> dict[str, np.ndarray]:
    """Every array of an .npz file of the record (:func:`load_npz`)."""
    with load_npz(path, ratio) as z:
        return {k: z[k] for k in z.files}


@contextlib.contextmanager
def load_npz(path: str | Path, ratio: int = DEFLATED) -> Iterator[Any]:
    """An .npz file of a record, opened (``numpy.load``'s NpzFile: no pickles) once the
    headers of its arrays say that they unpack into at most :data:`MIN_UNPACKED` bytes
    plus ``ratio`` (:data:`DEFLATED` or :data:`STORED`, as mlplab writes the file) times
    its size. ValueError where they ask for more: a zip bomb, refused before anything is
    unpacked."""
    # Opened here, not by np.load: np.load of a path leaves the file open when the zip
    # inside is damaged. Only a regular file: a FIFO would hang the reader, and a link to
    # /dev/zero fill its memory (OSError, as a missing file).
    with open_regular(path) as f:
        size = os.fstat(f.fileno()).st_size
        z = np.load(f, allow_pickle=False)
        if not isinstance(z, np.lib.npyio.NpzFile) or z.zip is None:
            raise ValueError("not an .npz file")
        with z:
            need = unpacked_bytes(z.zip)
            if need > MIN_UNPACKED + ratio * size:
                raise ValueError(
                    f"its arrays would unpack into {need:,} bytes from {size:,}, more than "
                    "mlplab writes into such a file"
                )
            yield z


def _digest(arrays: dict[str, np.ndarray]) -> str:
    h = hashlib.sha256()
    for k in sorted(arrays):
        h.update(f"\0{k}\0{arrays[k].dtype.str}\0".encode() + arrays[k].tobytes())
    return h.hexdigest()


def thinned(curves: dict[str, np.ndarray], points: int = TEXT_POINTS) -> dict[str, list[Any]]:
    """``curves`` (arrays) as lists cut to :func:`thin_indices` (all points when short)."""
    idx = thin_indices(len(curves["val_epochs"]), points)
    return {k: np.asarray(v)[idx].tolist() for k, v in curves.items()}


def read_curves(run_dir: str | Path, record: dict[str, Any] | None = None) -> dict[str, np.ndarray]:
    """Every point of a run's curves: from curves.npz, or from result.json when it has none."""
    path = Path(run_dir) / CURVES_FILE
    if path.is_file():
        try:
            return read_npz(path)
        except (OSError, ValueError, EOFError, zipfile.BadZipFile) as err:
            raise CheckpointError(
                f"{str(path)!r} cannot be read ({err or type(err).__name__}): it is damaged; "
                "result.json keeps every k-th point of the curves"
            ) from None
    if record is None:
        from mlplab.runs.record import read_result

        record = read_result(run_dir) or {}
    keys = ["val_epochs", *curve_names(record)]
    return {k: np.asarray(record.get(k) or []) for k in keys}


def with_every_point(run_dir: str | Path, record: dict[str, Any]) -> dict[str, Any]:
    """``record`` with its thinned curves replaced by every point of curves.npz.

    For pictures: the loss figure then draws what the run did between the ~250 points of
    result.json (a spike, a plateau's end). ``record`` itself is returned when it is not
    thinned, or when curves.npz does not hold the points it names (missing or damaged:
    the thinned curves still draw).
    """
    thin = record.get("curves_thinned")
    if not isinstance(thin, dict):
        return record
    try:
        full = read_curves(run_dir)
    except Exception:
        return record
    if len(full.get("val_epochs", ())) != thin.get("points"):
        return record
    return {**record, **{k: v.tolist() for k, v in full.items() if k in record}}
