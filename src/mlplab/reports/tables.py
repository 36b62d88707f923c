"""A sweep's two tables: every run's settings and final metrics, and every run's curves.

A sweep of 10,000 runs has 10,000 ``result.json`` files; opening and parsing each took a
report seconds. So the sweep's folder (``log_path/exp_name``) also keeps:

- ``sweep_runs.npz``: one column per key of result.json, one row per run, for every key
  but the curves. A column of booleans, whole numbers, floats or text is a NumPy array
  of that type, with a ``null`` mask for JSON's null; any other column (lists, objects,
  mixed types) holds each value as JSON text;
- ``sweep_curves.npz``: each curve of result.json (``val_epochs``, ``train_losses``...,
  as result.json holds them: thinned to about 250 points), every run's points one
  after another, with each run's length.

Both are plain ``.npz`` files (``numpy.load(..., allow_pickle=False)`` reads them), written
atomically, and say which records they hold: each run folder's name with the size and
modification time (ns) of its result.json. A reader trusts a row only while its run's
result.json still has that size and time; rows of runs that changed, appeared or went
are read from result.json again and the tables rewritten (:func:`refresh`). A sweep
stopped at any moment, or a record edited by hand, therefore leaves tables that are
complete or are rebuilt on the next report, never silently partial. Between them a row
is rebuilt exactly as json.load read its result.json (key order included).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from mlplab.runs.curves import read_npz

RUNS_TABLE = "sweep_runs.npz"
CURVES_TABLE = "sweep_curves.npz"
FORMAT = "mlplab-sweep-tables-1"
# Stamp of a record: (size, mtime_ns) of its result.json.
Stamp = tuple[int, int]
# One run's entry: its stamp and its result.json as json.load returned it.
Entry = tuple[Stamp, dict[str, Any]]


def stamp(path: str | os.PathLike[str]) -> Stamp:
    st = os.stat(path)
    return st.st_size, st.st_mtime_ns


def is_sweep_folder(folder: Path) -> bool:
    """A folder a sweep wrote its spec into (``sweep-*.yaml``): one that keeps tables."""
    return any(folder.glob("sweep-*.yaml"))


def read_tables(folder: Path) -> dict[str, Entry]:
    """The runs the tables under ``folder`` hold, by run folder name (empty: no tables,
    or tables that cannot be used: damaged, cut short, or the two disagree)."""
    try:
        runs, curves = (read_npz(folder / name) for name in (RUNS_TABLE, CURVES_TABLE))
        return _decode(runs, curves)
    except Exception:  # missing, damaged or foreign: the records are read instead
        return {}


def write_tables(folder: Path, entries: dict[str, Entry]) -> None:
    """Write both tables for ``entries`` (run folder name -> stamp, record), atomically."""
    from mlplab.runs.atomic import atomic_write_bytes
    from mlplab.runs.curves import npz_bytes

    names = sorted(entries)
    runs, curves = _encode(names, [entries[n] for n in names])
    # The curves first: a stop between the two writes leaves tables whose run stamps
    # differ, which a reader rejects and rebuilds.
    for file, arrays in ((CURVES_TABLE, curves), (RUNS_TABLE, runs)):
        atomic_write_bytes(folder / file, npz_bytes(arrays))


def curve_keys(record: dict[str, Any], settings: frozenset[str]) -> list[str]:
    """The keys of ``record`` that go to the curves table: ``val_epochs`` (whole numbers)
    and the lists of floats (or null) aligned with it that are not settings."""
    epochs = record.get("val_epochs")
    if not isinstance(epochs, list) or not all(type(e) is int and abs(e) < 2**63 for e in epochs):
        return []
    keys = ["val_epochs"]
    for k, v in record.items():
        if k in settings or k == "val_epochs" or not isinstance(v, list) or len(v) != len(epochs):
            continue
        if all(type(x) is float or x is None for x in v):
            keys.append(k)
    return keys


# --- encoding ---------------------------------------------------------------------------------
_ABSENT = object()


def _encode(names: list[str], entries: list[Entry]) -> tuple[dict[str, Any], dict[str, Any]]:
    from mlplab.config import Config

    settings = frozenset(Config.model_fields)
    layouts: dict[tuple[str, ...], int] = {}
    layout_of, curve_sets = [], []
    columns: dict[str, list[Any]] = {}
    for i, (_, record) in enumerate(entries):
        ckeys = curve_keys(record, settings)
        curve_sets.append(ckeys)
        layout_of.append(layouts.setdefault(tuple(record), len(layouts)))
        for k, v in record.items():
            if k not in ckeys:
                columns.setdefault(k, [_ABSENT] * len(entries))[i] = v
    kinds: dict[str, str] = {}
    runs: dict[str, Any] = {
        "run": np.array(names, dtype=str),
        "size": np.array([s[0] for s, _ in entries], dtype=np.int64),
        "mtime_ns": np.array([s[1] for s, _ in entries], dtype=np.int64),
        "layout": np.array(layout_of, dtype=np.int64),
    }
    for k, values in columns.items():
        kinds[k], runs[f"col/{k}"] = _column(values)
        runs[f"null/{k}"] = np.array([v is None for v in values])
    runs["meta"] = np.array(
        json.dumps({"format": FORMAT, "kinds": kinds, "layouts": list(layouts)})
    )
    curves: dict[str, Any] = {k: runs[k] for k in ("run", "size", "mtime_ns")}
    for k in sorted({k for keys in curve_sets for k in keys}):
        lengths = [len(r[k]) if k in keys else -1 for keys, (_, r) in zip(curve_sets, entries)]
        flat = [x for keys, (_, r) in zip(curve_sets, entries) if k in keys for x in r[k]]
        dtype = np.int64 if k == "val_epochs" else np.float64
        curves[f"len/{k}"] = np.array(lengths, dtype=np.int64)
        curves[f"curve/{k}"] = np.array([np.nan if x is None else x for x in flat], dtype=dtype)
    return runs, curves


def _column(values: list[Any]) -> tuple[str, np.ndarray]:
    """One column as (kind, array): bool, int, float, str, or json (anything else)."""
    present = [v for v in values if v is not _ABSENT and v is not None]
    types = {type(v) for v in present}
    fill = {bool: False, int: 0, float: 0.0, str: ""}
    kind = next(iter(types)) if len(types) == 1 else None
    fits = all(abs(v) < 2**63 if kind is int else not str(v).endswith("\0") for v in present)
    if kind in fill and fits:  # NumPy's text arrays drop trailing NULs: such text is JSON
        filled = [fill[kind] if v is _ABSENT or v is None else v for v in values]
        dtype = {bool: bool, int: np.int64, float: np.float64, str: str}[kind]
        return kind.__name__, np.array(filled, dtype=dtype)
    text = ["" if v is _ABSENT else json.dumps(v) for v in values]
    return "json", np.array(text, dtype=str)


def _decode(runs: dict[str, np.ndarray], curves: dict[str, np.ndarray]) -> dict[str, Entry]:
    meta = json.loads(str(runs["meta"]))
    if meta.get("format") != FORMAT:
        raise ValueError("not a table of this format")
    names = runs["run"].tolist()
    stamps = list(zip(runs["size"].tolist(), runs["mtime_ns"].tolist(), strict=True))
    for k in ("run", "size", "mtime_ns"):
        if not np.array_equal(runs[k], curves[k]):
            raise ValueError("the two tables hold different runs")
    layouts = [tuple(keys) for keys in meta["layouts"]]
    decoded: dict[str, list[Any]] = {}
    for k, kind in meta["kinds"].items():
        col, null = runs[f"col/{k}"], runs[f"null/{k}"].tolist()
        vals = col.tolist() if kind != "json" else [json.loads(t) if t else None for t in col]
        decoded[k] = [None if n else v for v, n in zip(vals, null, strict=True)]
    for key in [k for k in curves if k.startswith("curve/")]:
        k = key[len("curve/") :]
        flat, lengths = curves[key], curves[f"len/{k}"]
        ends = np.cumsum(np.maximum(lengths, 0))
        parts = [flat[e - n : e].tolist() if n >= 0 else None for n, e in zip(lengths, ends)]
        if k != "val_epochs" and np.isnan(flat).any():  # NaN stands for JSON's null
            parts = [p if p is None else [None if x != x else x for x in p] for p in parts]
        # A run whose list was not all floats keeps it in the runs table.
        other = decoded.get(k, [None] * len(names))
        decoded[k] = [p if n >= 0 else o for p, n, o in zip(parts, lengths, other, strict=True)]
    out: dict[str, Entry] = {}
    for i, (name, layout) in enumerate(zip(names, runs["layout"].tolist(), strict=True)):
        out[name] = (stamps[i], {k: decoded[k][i] for k in layouts[layout]})
    return out
