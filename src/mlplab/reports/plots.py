"""The report's seaborn figures, rendered to PNG bytes.

- ``bars``: train/val/test metric, x = first swept variable, hue = second;
- ``curves``: FacetGrids of the loss and of the metric against epoch (rows = second
  variable, cols = first), train and val in each panel, the test metric written on it;
- ``vs_param``: the val and test metric against each swept setting;
- ``heatmap``: mean val metric over the first two variables.

Seed replicates show as spread: error bars and bands are ± one standard deviation
(``errorbar="sd"``; deterministic, unlike bootstrap intervals). Every function closes its
figures, so long reports do not pile up open figures.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

# Beyond this many levels a variable makes unreadable facets/hues (e.g. a random search's
# continuous lr); those figures are skipped and `vs_param` shows the variable instead.
MAX_LEVELS = 8
# Points per curve in the FacetGrids; longer curves are thinned evenly.
MAX_CURVE_POINTS = 200
DPI = 100


@dataclass
class Plot:
    """One figure of the report: ``name`` (file stem), ``title``, ``caption``, ``png``."""

    name: str
    title: str
    caption: str
    png: bytes


def metric_label(metric: str) -> str:
    """``acc`` -> ``accuracy``; other names stay."""
    return {"acc": "accuracy", "mae": "MAE", "mse": "MSE", "r2": "R²"}.get(metric, metric)


def level_order(values: pd.Series) -> list[str]:
    """Distinct values as labels, sorted numerically when they are numbers."""
    uniq = pd.unique(values)
    try:
        uniq = sorted(uniq, key=lambda v: (v is None, float(v)))
    except (TypeError, ValueError):
        uniq = sorted(uniq, key=str)
    return [level_label(v) for v in uniq]


def level_label(v: Any) -> str:
    if isinstance(v, float) and not math.isnan(v):
        return f"{v:g}"
    return str(v)


def with_labels(runs: pd.DataFrame, variables: list[str]) -> pd.DataFrame:
    """Copy of ``runs`` where each variable is a text label (categorical axes, legends)."""
    out = runs.copy()
    for v in variables:
        out[v] = out[v].map(level_label)
    return out


def few_levels(runs: pd.DataFrame, var: str | None) -> bool:
    return var is None or runs[var].astype(str).nunique() <= MAX_LEVELS


def to_png(fig: Any) -> bytes:
    """Render a matplotlib Figure to PNG bytes and close it."""
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    try:
        fig.savefig(buf, format="png", dpi=DPI, bbox_inches="tight")
    finally:
        plt.close(fig)
    return buf.getvalue()


def bars(runs: pd.DataFrame, var1: str | None, var2: str | None, metric: str) -> Plot:
    """Barplots of train/val/test ``metric`` (one panel per split), x=var1, hue=var2."""
    import seaborn as sns

    cols = [f"{s}_{metric}" for s in ("train", "val", "test") if f"{s}_{metric}" in runs]
    ids = [v for v in (var1, var2) if v]
    long = with_labels(runs, ids).melt(
        id_vars=ids, value_vars=cols, var_name="split", value_name=metric
    )
    long["split"] = long["split"].str.split("_").str[0]
    long[metric] = pd.to_numeric(long[metric], errors="coerce")
    x = var1 or "split"
    grid = sns.catplot(
        data=long,
        kind="bar",
        x=x,
        y=metric,
        hue=var2,
        col="split" if var1 else None,
        order=level_order(runs[var1]) if var1 else None,
        hue_order=level_order(runs[var2]) if var2 else None,
        errorbar="sd",
        height=3.2,
        aspect=1.1,
        palette="viridis" if var2 else None,
    )
    grid.set_axis_labels(var1 or "", metric_label(metric))
    if metric == "acc":
        grid.set(ylim=(0, 1.05))
    by = f" by {var1}" + (f", coloured by {var2}" if var2 else "") if var1 else ""
    return Plot(
        f"bars_{metric}",
        f"train / val / test {metric_label(metric)}{by}",
        "bars: mean over seeds; error bars: ± 1 std",
        to_png(grid.figure),
    )


def curves_long(runs: pd.DataFrame, kind: str, variables: list[str]) -> pd.DataFrame:
    """Per-epoch curves in long form: ``variables``, epoch, split (train/val), value.

    ``kind`` is ``loss`` or a metric (``acc``/``mae``); every curve is taken at
    ``val_epochs`` (a train loss of another length, from an older record, is per epoch).
    Curves are thinned to MAX_CURVE_POINTS. The columns are built as whole arrays, not a
    frame per run: a sweep of hundreds of runs spent a second here otherwise.
    """
    cols: dict[str, list[Any]] = {"epoch": [], "value": [], "split": []}
    labels: dict[str, list[Any]] = {v: [] for v in variables}
    name = {"train": f"train_{kind}es" if kind == "loss" else f"train_{kind}s"}
    name["val"] = f"val_{kind}es" if kind == "loss" else f"val_{kind}s"
    for row in runs.to_dict("records"):
        train, val = row.get(name["train"]), row.get(name["val"])
        val_epochs = row.get("val_epochs")
        if not isinstance(val_epochs, list):
            val_epochs = None
        parts = []
        if isinstance(train, list) and train:
            # Curves are recorded at validations. Older records kept the train loss every
            # epoch: then it is plotted against 1..n.
            epochs = val_epochs
            if kind == "loss" and (epochs is None or len(epochs) != len(train)):
                epochs = list(range(1, len(train) + 1))
            if epochs is not None and len(epochs) == len(train):
                parts.append(("train", epochs, train))
        if isinstance(val, list) and val and val_epochs and len(val_epochs) == len(val):
            parts.append(("val", val_epochs, val))
        for split, epochs, values in parts:
            idx = np.unique(np.linspace(0, len(values) - 1, MAX_CURVE_POINTS).astype(int))
            vals = pd.to_numeric(pd.Series(values), errors="coerce").to_numpy(dtype=float)
            cols["epoch"].append(np.asarray(epochs)[idx])
            cols["value"].append(vals[idx])
            cols["split"].append(np.full(len(idx), split, dtype=object))
            for v in variables:
                labels[v].append(np.full(len(idx), level_label(row[v]), dtype=object))
    if not cols["epoch"]:
        return pd.DataFrame(columns=["epoch", "value", "split", *variables])
    return pd.DataFrame({k: np.concatenate(parts) for k, parts in {**cols, **labels}.items()})


def curves(
    runs: pd.DataFrame, var1: str | None, var2: str | None, kind: str, test_metric: str
) -> Plot | None:
    """FacetGrid of train/val ``kind`` curves (rows=var2, cols=var1), test metric per panel."""
    import seaborn as sns

    ids = [v for v in (var1, var2) if v]
    long = curves_long(runs, kind, ids)
    if long.empty or long["value"].notna().sum() == 0:
        return None
    grid = sns.FacetGrid(
        long,
        row=var2,
        col=var1,
        hue="split",
        row_order=level_order(runs[var2]) if var2 else None,
        col_order=level_order(runs[var1]) if var1 else None,
        hue_order=["train", "val"],
        palette={"train": "#1f77b4", "val": "#ff7f0e"},
        margin_titles=True,
        height=2.4,
        aspect=1.3,
        sharey=True,
    )
    grid.map_dataframe(sns.lineplot, x="epoch", y="value", errorbar="sd")
    grid.set_axis_labels("epoch", metric_label(kind))
    grid.add_legend()
    labelled = with_labels(runs, ids)
    test_col = f"test_{test_metric}"
    for key, ax in grid.axes_dict.items() if ids else [((), grid.ax)]:
        keys = key if isinstance(key, tuple) else (key,)
        # axes_dict keys are (row, col) = (var2, var1) with both, else the one level.
        cell = labelled
        for var, level in zip([var2, var1] if len(ids) == 2 else ids, keys):
            cell = cell[cell[var] == level]
        values = pd.to_numeric(cell.get(test_col, pd.Series(dtype=float)), errors="coerce")
        values = values.dropna()
        if len(values):
            spread = f" ± {values.std(ddof=1):.3f}" if len(values) > 1 else ""
            # Accuracy rises into the top corner; loss and MAE fall away from it.
            low = kind == "acc"
            ax.text(
                0.97,
                0.05 if low else 0.95,
                f"test {metric_label(test_metric)} {values.mean():.3f}{spread}",
                transform=ax.transAxes,
                ha="right",
                va="bottom" if low else "top",
                fontsize=8,
                bbox={"boxstyle": "round", "facecolor": "white", "alpha": 0.8},
            )
    what = "loss" if kind == "loss" else metric_label(kind)
    return Plot(
        f"curves_{kind}",
        f"{what} curves"
        + (f": rows {var2}, columns {var1}" if var2 else f" by {var1}" if var1 else ""),
        f"train and val {what} against epoch; bands: ± 1 std over seeds; "
        f"the panel's test {metric_label(test_metric)} (mean ± std) in its corner",
        to_png(grid.figure),
    )


def vs_param(runs: pd.DataFrame, variables: list[str], metric: str) -> Plot | None:
    """Val and test ``metric`` against each swept setting, one panel per setting."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    cols = [c for c in (f"val_{metric}", f"test_{metric}") if c in runs]
    if not variables or not cols:
        return None
    shown = variables[:6]
    fig, axes = plt.subplots(1, len(shown), figsize=(3.6 * len(shown), 3.2), squeeze=False)
    for ax, var in zip(axes[0], shown):
        long = runs.melt(id_vars=[var], value_vars=cols, var_name="split", value_name=metric)
        long["split"] = long["split"].str.split("_").str[0]
        long[metric] = pd.to_numeric(long[metric], errors="coerce")
        numeric = pd.to_numeric(runs[var], errors="coerce")
        is_numeric = (
            numeric.notna().all() and runs[var].map(lambda v: not isinstance(v, bool)).all()
        )
        if is_numeric:
            long[var] = pd.to_numeric(long[var])
            sns.lineplot(data=long, x=var, y=metric, hue="split", marker="o", errorbar="sd", ax=ax)
            low, high = float(numeric.min()), float(numeric.max())
            if low > 0 and high / low >= 100:  # learning rates and the like
                ax.set_xscale("log")
        else:
            long[var] = long[var].map(level_label)
            sns.pointplot(
                data=long,
                x=var,
                y=metric,
                hue="split",
                order=level_order(runs[var]),
                errorbar="sd",
                dodge=0.2,
                ax=ax,
            )
        ax.set_ylabel(metric_label(metric))
        ax.set_title(var)
    fig.tight_layout()
    return Plot(
        f"vs_param_{metric}",
        f"{metric_label(metric)} against each swept setting",
        "points: mean over seeds (and over the other settings); bars/bands: ± 1 std",
        to_png(fig),
    )


def heatmap(summary: pd.DataFrame, var1: str, var2: str, metric: str) -> Plot | None:
    """Mean val ``metric`` over var1 (columns) × var2 (rows), from the replicate summary."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    col = f"val_{metric}_mean"
    if col not in summary:
        return None
    table = summary.assign(
        **{var1: summary[var1].map(level_label), var2: summary[var2].map(level_label)}
    ).pivot_table(index=var2, columns=var1, values=col, aggfunc="mean")
    if table.empty or table.shape[0] > 30 or table.shape[1] > 30:
        return None
    table = table.reindex(
        index=[v for v in level_order(summary[var2]) if v in table.index],
        columns=[v for v in level_order(summary[var1]) if v in table.columns],
    )
    fig, ax = plt.subplots(figsize=(1.1 * table.shape[1] + 2.5, 0.7 * table.shape[0] + 1.8))
    sns.heatmap(
        table,
        annot=True,
        fmt=".3f",
        cmap="viridis" if metric == "acc" else "viridis_r",
        ax=ax,
        cbar_kws={"label": f"val {metric_label(metric)}"},
    )
    ax.set_title(f"val {metric_label(metric)} (mean over seeds)")
    return Plot(
        f"heatmap_{metric}",
        f"val {metric_label(metric)}: {var2} × {var1}",
        "cell: mean over seeds (and over any other swept settings)",
        to_png(fig),
    )


def report_plots(
    runs: pd.DataFrame, summary: pd.DataFrame, variables: list[str], kind: str
) -> list[Plot]:
    """Every figure that fits the sweep: bars, curve grids, metric vs setting, heatmap."""
    metric = "mae" if kind == "regression" else "acc"
    var1 = variables[0] if variables else None
    var2 = variables[1] if len(variables) > 1 else None
    facets = few_levels(runs, var1) and few_levels(runs, var2)
    plots: list[Plot | None] = []
    if facets:
        plots.append(bars(runs, var1, var2, metric))
        plots.append(curves(runs, var1, var2, "loss", metric))
        plots.append(curves(runs, var1, var2, metric, metric))
    plots.append(vs_param(runs, variables, metric))
    if var1 and var2:
        plots.append(heatmap(summary, var1, var2, metric))
    return [p for p in plots if p is not None]
