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

# t(0.975, df) for df = 1..100, exactly as scipy.special.stdtrit gives them (a test checks
# each): importing scipy.special for them took 0.1 s of the 1.7 s report of a 256-run sweep.
# More degrees of freedom (over 101 seeds), or another confidence, use scipy.
# fmt: off
T975 = (
    12.706204736174694, 4.302652729749462, 3.1824463052837078, 2.7764451051977934,
    2.5705818356363146, 2.4469118511449786, 2.364624251592784, 2.306004135204166,
    2.262157162798205, 2.228138851986274, 2.200985160091639, 2.1788128296672284,
    2.1603686564627913, 2.144786687917804, 2.131449545559776, 2.1199052992212546,
    2.1098155778333156, 2.1009220402410382, 2.0930240544083087, 2.085963447265864,
    2.0796138447276795, 2.0738730679040254, 2.0686576104190486, 2.0638985616280245,
    2.0595385527532972, 2.0555294386428735, 2.0518305164802846, 2.0484071417952454,
    2.045229642132703, 2.0422724563012378, 2.039513446396408, 2.0369333434601016,
    2.0345152974493383, 2.0322445093177186, 2.030107928250343, 2.0280940009804502,
    2.0261924630291093, 2.0243941639119694, 2.022690920036761, 2.021075390306273,
    2.019540970441376, 2.0180817028184443, 2.016692199227824, 2.0153675744437636,
    2.014103388880846, 2.012895598919429, 2.0117405137297655, 2.010634757624232,
    2.0095752371292392, 2.008559112100761, 2.007583770315836, 2.006646805061688,
    2.0057459953178687, 2.0048792881880564, 2.0040447832891455, 2.003240718847872,
    2.002465459291007, 2.0017174841452356, 2.000995378088267, 2.0002978220142604,
    1.999623584994939, 1.9989715170333788, 1.998340542520741, 1.997729654317693,
    1.9971379083920038, 1.9965644189523117, 1.996008354025296, 1.9954689314298435,
    1.9949454151072374, 1.994437111771186, 1.9939433678456255, 1.9934635666618719,
    1.992997125889855, 1.992543495180932, 1.9921021540022417, 1.9916726096446642,
    1.9912543953883846, 1.9908470688116906, 1.9904502102301285, 1.990063421254446,
    1.9896863234569029, 1.989318557136572, 1.9889597801751624, 1.9886096669757083,
    1.9882679074772216, 1.98793420623902, 1.9876082815890708, 1.9872898648311692,
    1.986978699506281, 1.9866745407037683, 1.9863771544186177, 1.98608631695113,
    1.9858018143458227, 1.985523441866604, 1.9852510035054978, 1.984984311522457,
    1.9847231860139845, 1.9844674545084815, 1.9842169515864174, 1.9839715185235518,
)
# fmt: on


def metric_names(kind: str) -> list[str]:
    """The final metrics of a task kind, as result.json names them."""
    splits = ("train", "val", "test")
    if kind == "regression":
        return [f"{s}_{m}" for m in ("loss", "mae", "mse", "r2") for s in splits]
    return [f"{s}_{m}" for m in ("acc", "loss") for s in splits]


def metric_bounds(metric: str) -> tuple[float, float]:
    """``(low, high)`` a metric can take, from its name: ``val_acc`` -> (0, 1), ``test_r2``
    -> (-inf, 1), ``*_loss``/``*_mae``/``*_mse``/``wall_time_s`` -> (0, inf); else unbounded."""
    last = metric.rsplit("_", 1)[-1]
    if last in ("acc", "accs"):
        return 0.0, 1.0
    if last == "r2":
        return -math.inf, 1.0
    if last in ("loss", "losses", "mae", "mse", "s"):
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


def ranking_metric(kind: str) -> tuple[str, bool]:
    """``(metric, ascending)``: val_acc descending, or val_loss ascending for regression."""
    return ("val_loss", True) if kind == "regression" else ("val_acc", False)


def tie_break(kind: str) -> tuple[str, bool]:
    """``(metric, ascending)`` that orders configs equal in the ranking metric: the
    validation loss for classification, the validation MAE for regression."""
    return ("val_mae", True) if kind == "regression" else ("val_loss", True)


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
    x = np.asarray(values, dtype=float)
    x = x[~np.isnan(x)]
    n = len(x)
    if n == 0:
        return (math.nan,) * 4
    mean = float(x.mean())
    if n < 2:
        return mean, math.nan, math.nan, math.nan
    std = float(x.std(ddof=1))
    half = float(t_quantile(np.array([n - 1.0]), 0.5 + confidence / 2)[0]) * std / math.sqrt(n)
    return mean, std, max(mean - half, bounds[0]), min(mean + half, bounds[1])


def t_quantile(df: np.ndarray, q: float) -> np.ndarray:
    """Student's t quantile ``q`` at ``df`` degrees of freedom (``scipy.special.stdtrit``),
    from :data:`T975` when every ``df`` is in it."""
    df = np.asarray(df, dtype=float)
    if q == 0.975 and df.size and ((df >= 1) & (df <= len(T975)) & (df % 1 == 0)).all():
        return np.array(T975)[df.astype(int) - 1]
    # From scipy.special: scipy.stats would cost ~0.5 s more.
    from scipy.special import stdtrit

    return np.asarray(stdtrit(df, q), dtype=float)


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
        Metric columns to summarise (missing ones are skipped); intervals are clipped to
        :func:`metric_bounds`.
    rank_by : (metric, ascending), optional
        Sort by that metric's mean (NaN last) and add a 1-based ``rank`` column.
    tie : (metric, ascending), optional
        Orders configs whose ``rank_by`` means are equal (to TIE_DECIMALS decimals).

    Returns
    -------
    DataFrame
        ``variables`` + ``runs`` + ``n`` (finished replicates) + ``seeds`` + ``run_ids``
        + for each metric ``_mean``, ``_std``, ``_ci_low``, ``_ci_high``.
    """
    metrics = [m for m in metrics if m in runs]
    keys = group_keys(runs, variables)
    first = ~keys.duplicated()
    # Whole columns at a time (groupby), not a loop over configs: a random search of
    # 10,000 runs has 10,000 configs.
    table = runs.loc[first, variables].set_axis(keys[first].to_numpy()).copy()
    by_key = runs.groupby(keys, sort=False)
    table["runs"] = by_key.size()
    done = runs["status"] == "finished" if "status" in runs else pd.Series(True, runs.index)
    table["n"] = done.groupby(keys, sort=False).sum()
    for name, column in (("seeds", "seed"), ("run_ids", "run_id")):
        if column in runs:
            table[name] = runs[column].astype(str).groupby(keys, sort=False).agg(", ".join)
        else:
            table[name] = ""
    quantile = 0.5 + CONFIDENCE / 2
    for m in metrics:
        values = pd.to_numeric(runs[m], errors="coerce").where(done)
        grouped = values.groupby(keys, sort=False)
        n = grouped.count().to_numpy(dtype=float)
        mean = grouped.mean().to_numpy(dtype=float)
        std = np.where(n > 1, grouped.std(ddof=1).to_numpy(dtype=float), np.nan)
        with np.errstate(invalid="ignore", divide="ignore"):
            half = t_quantile(np.maximum(n - 1, 1), quantile) * std / np.sqrt(n)
        low, high = metric_bounds(m)
        table[f"{m}_mean"] = mean
        table[f"{m}_std"] = std
        table[f"{m}_ci_low"] = np.maximum(mean - half, low)
        table[f"{m}_ci_high"] = np.minimum(mean + half, high)
    table = table.reset_index(drop=True)
    if rank_by is not None and f"{rank_by[0]}_mean" in table:
        keys, ascending = [], []
        for metric, up in [rank_by, *([tie] if tie else [])]:
            if f"{metric}_mean" in table:
                keys.append(f"_sort_{metric}")
                ascending.append(up)
                table[f"_sort_{metric}"] = table[f"{metric}_mean"].round(TIE_DECIMALS)
        table = table.sort_values(keys, ascending=ascending, na_position="last", kind="stable")
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
