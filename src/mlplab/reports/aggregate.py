"""Seed replicates -> mean, standard deviation and a 95% interval per config.

Runs that differ only in ``seed`` are replicates of one config. For each metric the
summary holds ``{m}_mean``, ``{m}_std`` (sample std, ddof=1) and the two ends of the 95%
confidence interval of the mean, ``mean ± t(0.975, n-1) · std / sqrt(n)``, clipped to the
range the metric can take (:func:`metric_bounds`: accuracy in [0, 1], R² at most 1,
losses, MAE and MSE at least 0), in ``{m}_ci_low`` and ``{m}_ci_high``. With a few seeds
the t-interval of an accuracy easily reaches past 1; clipped, it says what is possible.
With one replicate, std and the interval are NaN. Only ``finished`` runs enter the
statistics; ``runs`` counts every run of the config.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

CONFIDENCE = 0.95
# Means equal to this many decimals tie: (0.5 + 1 + 0.5) / 3 and (1 + 0.5 + 0.5) / 3 differ
# in the last bit, and must not decide a ranking.
TIE_DECIMALS = 10


def metric_names(kind: str) -> list[str]:
    """The final metrics of a task kind, as result.json names them."""
    splits = ("train", "val", "test")
    if kind == "regression":
        return [f"{s}_{m}" for m in ("loss", "mae", "mse", "rmse", "r2") for s in splits]
    return [f"{s}_{m}" for m in ("acc", "loss", "bacc", "f1") for s in splits]


def metric_bounds(metric: str) -> tuple[float, float]:
    """``(low, high)`` a metric can take, from its name: ``val_acc``/``*_bacc``/``*_f1`` ->
    (0, 1), ``test_r2`` -> (-inf, 1), ``*_loss``/``*_mae``/``*_mse``/``*_rmse``/``wall_time_s`` ->
    (0, inf); else unbounded."""
    last = metric.rsplit("_", 1)[-1]
    if last in ("acc", "accs", "bacc", "f1"):
        return 0.0, 1.0
    if last == "r2":
        return -math.inf, 1.0
    if last in ("loss", "losses", "mae", "mse", "rmse", "s"):
        return 0.0, math.inf
    return -math.inf, math.inf


def bounds_text(metric: str) -> str:
    """How :func:`mean_std_ci` clips ``metric``'s interval, for table headers: ``[0, 1]``."""
    low, high = metric_bounds(metric)
    if math.isinf(low) and math.isinf(high):
        return ""
    if math.isinf(high):
        return f"≥ {low:g}"
    if math.isinf(low):
        return f"≤ {high:g}"
    return f"[{low:g}, {high:g}]"


# A report's numbers: at least this many significant digits, in scientific notation past
# the bounds (a tiny target's MSE of 1.2e-08 was printed 0.0000, its MAE 0.0001 beside
# 0.0021, and configs could not be told apart), as `mlplab train`'s table writes them.
SIGNIFICANT = 4
SCIENTIFIC_BELOW = 1e-3
SCIENTIFIC_FROM = 1e5


def scientific(x: float) -> bool:
    """Whether a report writes ``x`` in scientific notation: nonzero and below
    :data:`SCIENTIFIC_BELOW` or from :data:`SCIENTIFIC_FROM` on, in size."""
    return math.isfinite(x) and x != 0 and not SCIENTIFIC_BELOW <= abs(x) < SCIENTIFIC_FROM


def number_text(v: Any, sci: bool | None = None) -> str:
    """A metric as a report's tables write it: ``0.9123``, ``0.02135``, ``236.4800``,
    ``8.578e-05``, ``1.192e+05``; ``""`` for NaN and what is no number.

    4 decimals, or more below 1, so that every nonzero value keeps :data:`SIGNIFICANT`
    digits: no nonzero metric reads 0.0000, and 0.002135 is not 0.0021 beside 0.002128.
    Scientific past :func:`scientific`'s bounds, or where ``sci`` says so (the cells of
    one interval in one form); an exact 0 there is ``0``.
    """
    try:
        x = float(v)
    except (TypeError, ValueError):
        return ""
    if math.isnan(x):
        return ""
    if scientific(x) if sci is None else sci:
        return "0" if x == 0 else f"{x:.{SIGNIFICANT - 1}e}"
    decimals = 4
    if 0 < abs(x) < 1:
        decimals = max(decimals, SIGNIFICANT - 1 - math.floor(math.log10(abs(x))))
    text = f"{x:.{decimals}f}"
    # -0.0 (or a value a caller forced to fixed form that rounds to 0): "0.0000", no sign.
    return text.lstrip("-") if float(text) == 0 else text


# What a report may rank by (``rank_by``), per task kind; the first is the default. A
# regression's loss is left out: under ``standardize_target`` it is of the scaled target.
RANKABLE = {
    "classification": ("val_acc", "val_bacc", "val_f1", "val_loss"),
    "regression": ("val_mse", "val_mae", "val_rmse", "val_r2"),
}


def ranking_metric(kind: str, rank_by: str | None = None) -> tuple[str, bool]:
    """``(metric, ascending)``: ``rank_by`` where it is a metric of ``kind`` (one of
    :data:`RANKABLE`: a log_path may hold classification and regression runs alike), else
    val_acc descending, or val_mse ascending for regression; errors and losses ascend.

    A regression's val_mse is its loss in the target's units: the loss itself is of the
    scaled target where ``standardize_target`` is on, so a config trained on the scaled
    target (loss 0.27) outranked a better one on the raw target (loss 154).
    """
    own = RANKABLE["regression" if kind == "regression" else "classification"]
    metric = rank_by if rank_by in own else own[0]
    return metric, metric.rsplit("_", 1)[-1] in ("loss", "mse", "rmse", "mae")


def tie_break(kind: str, metric: str | None = None) -> tuple[str, bool]:
    """``(metric, ascending)`` that orders configs equal in the ranking ``metric``: the
    validation loss for classification, the validation MAE for regression; the default
    ranking metric where ``metric`` is that one."""
    tie = ("val_mae", True) if kind == "regression" else ("val_loss", True)
    return ranking_metric(kind) if metric == tie[0] else tie


def mean_std_ci(
    values: np.ndarray,
    confidence: float = CONFIDENCE,
    bounds: tuple[float, float] = (-math.inf, math.inf),
) -> tuple[float, ...]:
    """``(mean, std, ci_low, ci_high)`` of 1-D ``values`` (NaNs dropped).

    The interval uses Student's t with n-1 degrees of freedom, clipped to ``bounds``
    (``(low, high)``, default unbounded); n < 2 gives NaN for the std and the interval,
    n = 0 gives NaN for all four.
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
    return mean, std, max(mean - half, bounds[0]), min(mean + half, bounds[1])


def aggregate(
    runs: pd.DataFrame,
    variables: list[str],
    metrics: list[str],
    rank_by: tuple[str, bool] | None = None,
    tie: tuple[str, bool] | None = None,
) -> pd.DataFrame:
    """One row per config (the ``variables`` values), replicates summarised.

    Parameters
    ----------
    runs : DataFrame
        One row per run (:func:`mlplab.reports.collect.collect`), with ``status``.
    variables : list of str
        The swept settings; rows equal in all of them are replicates. Empty: one group.
    metrics : list of str
        Metric columns to summarise (one no run has gets empty columns); intervals are
        clipped to :func:`metric_bounds`.
    rank_by : (metric, ascending), optional
        Sort by that metric's mean (NaN last), configs with a run that did not finish
        (diverged, failed, pruned, interrupted, running) after all others, and add a
        1-based ``rank`` column.
    tie : (metric, ascending), optional
        Orders configs whose ``rank_by`` means are equal (to TIE_DECIMALS decimals).

    Returns
    -------
    DataFrame
        ``variables`` + ``runs`` + ``n`` (finished replicates) + ``repeats`` (finished runs
        of a config and seed already counted) + ``seeds`` (of the ``n`` replicates the
        statistics are over) + ``run_ids`` (of every run)
        + for each metric ``_mean``, ``_std``, ``_ci_low``, ``_ci_high``.
    """
    from scipy.special import stdtrit

    keys = group_keys(runs, variables)
    first = ~keys.duplicated()
    # Whole columns at a time (groupby), not a loop over configs: a random search of
    # 10,000 runs has 10,000 configs.
    table = runs.loc[first, variables].set_axis(keys[first].to_numpy()).copy()
    by_key = runs.groupby(keys, sort=False)
    table["runs"] = by_key.size()
    done = runs["status"] == "finished" if "status" in runs else pd.Series(True, runs.index)
    # Two runs of one config and seed are one replicate: they differ only in settings that
    # the model does not use (hid_dim of a linear model, blank here), so they trained the same
    # model, and counted twice the copy would narrow the interval.
    # A record without a seed (edited by hand) repeats nothing that can be told.
    seeds = runs["seed"] if "seed" in runs else pd.Series(np.nan, runs.index)
    known = done & seeds.notna()
    repeat = known & (keys + "|" + seeds.map(key_text)).where(known).duplicated()
    done = done & ~repeat
    table["n"] = done.groupby(keys, sort=False).sum()
    table["repeats"] = repeat.groupby(keys, sort=False).sum()
    # Listed in seed order (the records come in folder order), run ids alongside. The
    # seeds are those the means are over (finished, each once); the run ids are every run.
    by_seed = runs.sort_values("seed", kind="stable") if "seed" in runs else runs
    for name, column in (("seeds", "seed"), ("run_ids", "run_id")):
        if column in runs:
            rows = by_seed[done[by_seed.index]] if name == "seeds" else by_seed
            table[name] = rows[column].map(key_text).groupby(keys, sort=False).agg(", ".join)
        else:
            table[name] = ""
    quantile = 0.5 + CONFIDENCE / 2
    for m in metrics:
        # A metric no run has (test_* of a sweep without test rows) gets its columns,
        # empty, as results.csv does: one script reads every sweep's summary.csv.
        present = runs[m] if m in runs else pd.Series(np.nan, runs.index)
        values = pd.to_numeric(present, errors="coerce").where(done)
        grouped = values.groupby(keys, sort=False)
        n = grouped.count().to_numpy(dtype=float)
        mean = grouped.mean().to_numpy(dtype=float)
        std = np.where(n > 1, grouped.std(ddof=1).to_numpy(dtype=float), np.nan)
        with np.errstate(invalid="ignore", divide="ignore"):
            half = stdtrit(np.maximum(n - 1, 1), quantile) * std / np.sqrt(n)
        low, high = metric_bounds(m)
        table[f"{m}_mean"] = mean
        table[f"{m}_std"] = std
        table[f"{m}_ci_low"] = np.maximum(mean - half, low)
        table[f"{m}_ci_high"] = np.minimum(mean + half, high)
    # A config some of whose runs did not finish (diverged, failed, pruned, interrupted or
    # still running) ranks after every config whose runs all did: the mean of its
    # survivors alone (three seeds of five) would flatter it, and a search prunes the seeds
    # it judged worse.
    # A seed with a finished copy (a run folder copied mid-run beside the whole one) has
    # lost nothing: its unfinished copy demoted a config whose every seed finished.
    pair = keys + "|" + seeds.map(key_text)
    finished = set(pair[known])
    lost = runs["status"] != "finished" if "status" in runs else done & False
    lost &= ~(seeds.notna() & pair.isin(finished))
    table["_sort_lost"] = lost.groupby(keys, sort=False).any()
    # Configs with no finished run have no mean: those a search pruned rank by how far
    # their runs got (a successive halving's later rungs first), not in grid order.
    reached = pd.to_numeric(runs.get("epochs_run", pd.Series(np.nan, runs.index)), "coerce")
    table["_sort_reached"] = -reached.groupby(keys, sort=False).max()
    # Configs cut at the same rung rank by their metric where they were cut (a pruned
    # run's record keeps it), then, as means do, by the tie's metric; not by folder order.
    # Neither enters a mean.
    cuts = [c for c in (rank_by, tie) if c is not None]
    for i, (metric, _) in enumerate(cuts):
        if metric in runs and "status" in runs:
            cut = pd.to_numeric(runs[metric], errors="coerce").where(runs["status"] == "pruned")
            table[f"_sort_cut{i}"] = cut.groupby(keys, sort=False).mean().round(TIE_DECIMALS)
        else:
            table[f"_sort_cut{i}"] = np.nan
    table = table.reset_index(drop=True)
    if rank_by is None:
        return table.drop(columns=[c for c in table if str(c).startswith("_sort")])
    keys, ascending = ["_sort_lost"], [True]
    for metric, up in [rank_by, *([tie] if tie else [])]:
        if f"{metric}_mean" in table:
            keys.append(f"_sort_{metric}")
            ascending.append(up)
            table[f"_sort_{metric}"] = table[f"{metric}_mean"].round(TIE_DECIMALS)
    keys += ["_sort_reached", *(f"_sort_cut{i}" for i in range(len(cuts)))]
    ascending += [True, *(up for _, up in cuts)]
    if f"_sort_{rank_by[0]}" in table:
        table = table.sort_values(keys, ascending=ascending, na_position="last", kind="stable")
    # Ranked even when no run has the metric (all diverged, or still running): in order.
    table = table.drop(columns=keys).reset_index(drop=True)
    table.insert(0, "rank", range(1, len(table) + 1))
    return table


def key_text(value: Any) -> str:
    """A setting's value as grouping text: None and NaN both read as empty."""
    if not isinstance(value, list | tuple | dict) and pd.isna(value):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # 300.0 (an int column that also holds None) is 300
    return str(value)


def group_keys(runs: pd.DataFrame, variables: list[str]) -> pd.Series:
    """A text key per row: rows equal in every variable get the same key.

    Values are turned into text one by one (:func:`key_text`): ``astype(str)`` gave None
    and NaN as floats in pandas 3, which ``"|".join`` could not take.
    """
    if not variables or runs.empty:
        return pd.Series(["all"] * len(runs), index=runs.index, dtype=object)
    texts = runs[variables].map(key_text)
    return pd.Series(
        ["|".join(row) for row in texts.itertuples(index=False, name=None)],
        index=runs.index,
        dtype=object,
    )
