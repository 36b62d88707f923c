"""result.json files under a folder -> one pandas DataFrame, one row per run.

Works on a ``log_path`` (every experiment under it), a ``log_path/exp_name`` folder, or a
single run directory. Scalar values become columns as they are; the per-epoch curves
(``train_losses``, ``val_accs``, ...) stay as Python lists in object columns for the
plots. A ``run_dir`` column says where each row came from.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from mlplab.config import HASH_EXCLUDED, Config
from mlplab.errors import ConfigError

# Settings that never count as swept variables: ``seed`` is the replicate axis, the rest
# only change how a run is watched or where it is written. ``exp_name`` stays a variable,
# so a report over a whole log_path keeps experiments apart.
NOT_VARIABLES = (HASH_EXCLUDED - {"exp_name"}) | {"seed"}


def find_results(root: str | Path) -> list[Path]:
    """Every ``result.json`` under ``root`` (sorted), skipping hidden folders."""
    root = Path(root)
    return sorted(
        p
        for p in root.rglob("result.json")
        if not any(part.startswith(".") for part in p.relative_to(root).parts[:-1])
    )


def collect(path: str | Path, exp_name: str | None = None) -> pd.DataFrame:
    """Load the runs under ``path`` (or ``path/exp_name``) into a DataFrame.

    Returns
    -------
    DataFrame
        One row per run; columns: every key of result.json plus ``run_dir``. List-valued
        settings (``target``, ``split``) are turned into strings so rows can be grouped.

    Raises
    ------
    ConfigError
        When the folder does not exist or holds no result.json.
    """
    root = Path(path) / exp_name if exp_name else Path(path)
    if not root.is_dir():
        raise ConfigError(f"report: {str(root)!r} is not a folder")
    rows: list[dict[str, Any]] = []
    for file in find_results(root):
        try:
            record = json.loads(file.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            continue  # a run being written right now, or a damaged file: not a result
        if not isinstance(record, dict):
            continue
        for name in Config.model_fields:
            if isinstance(record.get(name), list):
                record[name] = json.dumps(record[name])
        record["run_dir"] = str(file.parent)
        rows.append(record)
    if not rows:
        raise ConfigError(f"report: no runs (result.json files) under {str(root)!r}")
    return pd.DataFrame(rows)


def task_kind(runs: pd.DataFrame) -> str:
    """``regression`` when most runs are regressions, else ``classification``."""
    if "task_type" not in runs:
        return "regression" if "val_mae" in runs else "classification"
    regression = (runs["task_type"] == "regression").sum()
    return "regression" if regression * 2 > len(runs) else "classification"


def swept_variables(runs: pd.DataFrame, order: list[str] | None = None) -> list[str]:
    """The settings that take more than one value among ``runs`` (never ``seed``).

    ``order`` (a sweep's axis order) puts those axes first; the rest follow in the order
    the settings are declared.
    """
    names = [n for n in Config.model_fields if n in runs and n not in NOT_VARIABLES]
    varying = [n for n in names if runs[n].astype(str).nunique(dropna=False) > 1]
    first = [n for n in order or [] if n in varying]
    return first + [n for n in varying if n not in first]


def scalar_columns(runs: pd.DataFrame) -> list[str]:
    """Columns whose values are not lists (what results.csv holds)."""
    return [c for c in runs.columns if not runs[c].map(lambda v: isinstance(v, list | dict)).any()]


def read_axis_order(root: str | Path) -> list[str]:
    """Axis order of the newest ``sweep-*.yaml`` under ``root`` (empty if none)."""
    import yaml

    specs = sorted(Path(root).rglob("sweep-*.yaml"), key=lambda p: p.stat().st_mtime)
    if not specs:
        return []
    try:
        spec = yaml.safe_load(specs[-1].read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError):
        return []
    axes = spec.get("axes") if isinstance(spec, dict) else None
    return list(axes) if isinstance(axes, dict) else []
