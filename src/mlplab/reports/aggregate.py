"""Seed replicates -> mean, standard deviation and a t-interval per config.

Runs that differ only in ``seed`` are replicates of one config. For each metric the
summary holds ``{m}_mean``, ``{m}_std`` (sample std, ddof=1) and the two ends of the 95%
confidence interval of the mean, ``mean ± t(0.975, n-1) · std / sqrt(n)``
(``{m}_ci_low``, ``{m}_ci_high``). With one replicate, std and the interval are NaN.
Only ``finished`` runs enter the statistics; ``runs`` counts every run of the config.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

CONFIDENCE = 0.95


def metric_names(kind: str) -> list[str]:
    """The final metrics of a task kind, as result.json names them."""
    splits = ("train", "val", "test")
    if kind == "regression":
        return [f"{s}_{m}" for m in ("loss", "mae", "mse", "r2") for s in splits]
    return [f"{s}_{m}" for m in ("acc", "loss") for s in splits]


def ranking_metric(kind: str) -> tuple[str, bool]:
    """``(metric, ascending)``: val_acc descending, or val_loss ascending for regression."""
    return ("val_loss", True) if kind == "regression" else ("val_acc", False)


def mean_std_ci(values: np.ndarray, confidence: float = CONFIDENCE) -> tuple[float, ...]:
    """``(mean, std, ci_low, ci_high)`` of 1-D ``values`` (NaNs dropped).

    The interval uses Student's t with n-1 degrees of freedom; n < 2 gives NaN for the
    std and the interval, n = 0 gives NaN for all four.
    """
    # The t quantile from scipy.special: importing scipy.stats costs ~0.5 s more.
    from scipy.special import stdtrit

    x = np.asarray(values, dtype=float)
    x = x[~np.isnan(x)]
    n = len(x)
    if n == 0:
        return (math.nan,) * 4
    mean = float(x.mean())
    if n < 2:
        return mean, math.nan, math.nan, math.nan
    std = float(x.std(ddof=1))
    half = float(stdtrit(n - 1, 0.5 + confidence / 2)) * std / math.sqrt(n)
    return mean, std, mean - half, mean + half


def aggregate(
    runs: pd.DataFrame,
    variables: list[str],
    metrics: list[str],
    rank_by: tuple[str, bool] | None = None,
) -> pd.DataFrame:
    """One row per config (the ``variables`` values), replicates summarised.

    Parameters
    ----------
    runs : DataFrame
        One row per run (:func:`mlplab.reports.collect.collect`), with ``status``.
    variables : list of str
        The swept settings; rows equal in all of them are replicates. Empty: one group.
    metrics : list of str
        Metric columns to summarise (missing ones are skipped).
    rank_by : (metric, ascending), optional
        Sort by that metric's mean (NaN last) and add a 1-based ``rank`` column.

    Returns
    -------
    DataFrame
        ``variables`` + ``runs`` + ``n`` (finished replicates) + ``seeds`` + ``run_ids``
        + for each metric ``_mean``, ``_std``, ``_ci_low``, ``_ci_high``.
    """
    metrics = [m for m in metrics if m in runs]
    keyed = runs.assign(_group=group_keys(runs, variables))
    rows = []
    for _, part in keyed.groupby("_group", sort=False):
        done = part[part["status"] == "finished"] if "status" in part else part
        row = {v: part[v].iloc[0] for v in variables}
        row["runs"] = len(part)
        row["n"] = len(done)
        row["seeds"] = ", ".join(str(s) for s in _column(part, "seed"))
        row["run_ids"] = ", ".join(str(r) for r in _column(part, "run_id"))
        for m in metrics:
            values = pd.to_numeric(done[m], errors="coerce").to_numpy(dtype=float)
            mean, std, low, high = mean_std_ci(values)
            row.update(
                {f"{m}_mean": mean, f"{m}_std": std, f"{m}_ci_low": low, f"{m}_ci_high": high}
            )
        rows.append(row)
    table = pd.DataFrame(rows)
    if rank_by is not None and f"{rank_by[0]}_mean" in table:
        table = table.sort_values(
            f"{rank_by[0]}_mean", ascending=rank_by[1], na_position="last", kind="stable"
        ).reset_index(drop=True)
        table.insert(0, "rank", range(1, len(table) + 1))
    return table


def group_keys(runs: pd.DataFrame, variables: list[str]) -> pd.Series:
    # A string key per row: values such as None, NaN and lists group reliably as text.
    if not variables:
        return pd.Series(["all"] * len(runs), index=runs.index)
    return runs[variables].astype(str).agg("|".join, axis=1)


def _column(frame: pd.DataFrame, name: str) -> list[object]:
    return frame[name].tolist() if name in frame else []
