"""The report's figures: matplotlib, with the spread computed in NumPy, as PNG bytes.

- ``bars``: train/val/test metric (one panel per split), x = first swept variable,
  colour = second;
- ``curves``: the loss and the metric against epoch in a grid of panels (rows = second
  variable, columns = first), train and val in each, the test metric written on it;
- ``vs_param``: the val and test metric against each swept setting;
- ``heatmap``: mean val metric over the first two variables.

Built to scale: every curve is resampled once onto one grid of at most
MAX_CURVE_POINTS epochs, into an ``[n_runs, points]`` array; a panel draws the mean and a
± 1 std band computed over its rows, and its runs' own curves as one ``LineCollection``
per split (up to MAX_LINES of them). Bars and points are means ± 1 std over runs. Spreads
are clipped to the range the metric can take (accuracy in [0, 1], losses at least 0).
Each figure has one legend, whatever the number of runs, and is drawn on a bare
``matplotlib.figure.Figure`` (no pyplot state to close).
"""

from __future__ import annotations

import io
import math
import re
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from mlplab.data.synthetic import GATES
from mlplab.errors import shorten, warnings_caught
from mlplab.plots.loss import SHARED_LABEL
from mlplab.plots.run_plots import set_log_y, use_log_scale
from mlplab.plots.style import (
    SERIES,
    TEXT_AS_WRITTEN,
    fonts_noted,
    ink_on,
    with_fallback_font,
)
from mlplab.reports.aggregate import metric_bounds, ranking_metric

# Beyond this many levels a variable makes unreadable panels or colours (e.g. a random
# search's continuous lr): the curves then share one panel, and `vs_param` scatters.
MAX_LEVELS = 8
# A setting of names (act, optim, data) has no axis to scatter its values along: swept
# alone, up to this many values still get a bar and a panel each, the panels wrapped into
# rows of at most MAX_LEVELS (all 11 activations: two rows of 6).
MAX_NAMED_LEVELS = 16
# Points per curve on the common epoch grid.
MAX_CURVE_POINTS = 200
# Runs in a panel drawn one by one; above it only their mean and band are drawn.
MAX_LINES = 60
DPI = 100
MISSING = "–"  # the label of a setting that does not apply (None)
# Metrics whose best value is the lowest; the others (accuracy, R², F1) are best highest.
LOWER_IS_BETTER = ("loss", "mae", "mse", "rmse")


@dataclass
class Plot:
    """One figure of the report: ``name`` (file stem), ``title``, ``caption``, ``png``."""

    name: str
    title: str
    caption: str
    png: bytes


def metric_label(metric: str) -> str:
    """``acc`` -> ``accuracy``, ``mse`` -> ``MSE``, ...; other names stay."""
    names = {"acc": "accuracy", "bacc": "balanced accuracy", "f1": "F1", "mae": "MAE"}
    return {**names, "mse": "MSE", "rmse": "RMSE", "r2": "R²"}.get(metric, metric)


def level_label(v: Any) -> str:
    """A setting's value as a label: ``0.5``, ``relu``; None and NaN as ``–``."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return MISSING
    if isinstance(v, float):
        return f"{v:g}"
    return str(v)


# A label drawn longer than this (a file name of 200 letters, swept as `data`) is cut in
# its middle: upright, it made a bar chart 2,166 pixels tall, and panel titles ran together.
LABEL_CHARS = 40


def drawn(levels: list[str]) -> list[str]:
    """``levels`` as a figure draws them: each cut to :data:`LABEL_CHARS` in its middle
    (the tables keep them whole)."""
    return [shorten(x, LABEL_CHARS) for x in levels]


def level_order(values: pd.Series) -> list[str]:
    """Distinct values as labels, sorted numerically when they are numbers, and text by
    the numbers in it: hid_dims ``4-4, 16-16, 16-16-16-16, 64-64``, not as strings sort
    (``16-16, 16-16-16-16, 4-4, 64-64``)."""
    uniq = list(dict.fromkeys(level_label(v) for v in pd.unique(values)))
    try:
        return sorted(uniq, key=lambda s: (s == MISSING, float(s) if s != MISSING else 0.0))
    except ValueError:
        return sorted(uniq, key=lambda s: (s == MISSING, _natural(s)))


def _natural(text: str) -> list[tuple[int, float | str]]:
    # (0, number) before (1, text), so that no two parts compare a number with a str; a
    # number with decimals whole (noise0.05 before noise0.1, whose "05" read as 5).
    return [
        (0, float(p)) if p[0].isdigit() else (1, p) for p in re.split(r"(\d+(?:\.\d+)?)", text) if p
    ]


def labels(runs: pd.DataFrame, var: str | None) -> np.ndarray:
    """``runs[var]`` as label text (all ``""`` without a variable)."""
    if var is None:
        return np.full(len(runs), "", dtype=object)
    # A label per distinct value, then spread out: runs far outnumber values.
    codes, uniques = pd.factorize(runs[var], use_na_sentinel=False)
    names = np.array([level_label(v) for v in uniques] or [""], dtype=object)
    return names[codes]


def few_levels(runs: pd.DataFrame, var: str | None) -> bool:
    return var is None or len(level_order(runs[var])) <= MAX_LEVELS


def named(runs: pd.DataFrame, var: str) -> bool:
    """Whether ``var``'s values are names (relu, adam), not all numbers."""
    return not _numeric_setting(runs, var)


def panelled(runs: pd.DataFrame, var1: str | None, var2: str | None) -> bool:
    """Whether ``var1`` gets a bar and a panel per value: up to MAX_LEVELS values, and a
    setting of names swept alone (no ``var2``) up to MAX_NAMED_LEVELS."""
    if few_levels(runs, var1):
        return True
    assert var1 is not None
    alone = var2 is None and named(runs, var1)
    return alone and len(level_order(runs[var1])) <= MAX_NAMED_LEVELS


def one_panel_why(runs: pd.DataFrame, var1: str, var2: str | None) -> str:
    """Why the runs of ``var1``'s values share one panel (and have no bars), and what to do."""
    n = len(level_order(runs[var1]))
    if var2 is None and named(runs, var1):
        limit = f"the {MAX_NAMED_LEVELS} a setting of names swept alone gets panels for"
    elif named(runs, var1):
        limit = (
            f"the {MAX_LEVELS} a grid with {var2} gets panels for ({MAX_NAMED_LEVELS} when "
            f"{var1} is swept alone)"
        )
    else:
        limit = f"the {MAX_LEVELS} a setting of numbers gets panels for (see the next figure)"
    return (
        f"; {var1} has {n} values, more than {limit}: no bars or panels by {var1}, its runs "
        f"share this panel (split the sweep into sweeps of fewer values for a panel each)"
    )


def panel_figure(
    nrows: int,
    ncols: int,
    panel: tuple[float, float],
    *,
    margins: tuple[float, float, float, float] = (0.8, 1.1, 0.45, 0.65),
    gaps: tuple[float, float] = (0.25, 0.4),
    sharex: bool = False,
    sharey: bool = False,
) -> tuple[Any, Any]:
    """A Figure of ``nrows`` × ``ncols`` panels of ``panel`` (width, height) inches, and
    its axes as a 2-D array.

    Margins (left, right for the legend, top, bottom) and gaps (between columns, rows)
    are fixed in inches. A layout engine (constrained, tight) measured every tick label
    of every panel first: most of the drawing time of a report with many panels.
    """
    from matplotlib.figure import Figure

    left, right, top, bottom = margins
    width = left + right + ncols * panel[0] + (ncols - 1) * gaps[0]
    height = top + bottom + nrows * panel[1] + (nrows - 1) * gaps[1]
    fig = Figure(figsize=(width, height), dpi=DPI)
    axes = fig.subplots(nrows, ncols, sharex=sharex, sharey=sharey, squeeze=False)
    if sharex or sharey:
        from matplotlib.ticker import MaxNLocator

        # Few ticks: shared panels are small, and every tick is drawn in every panel.
        if sharex:
            axes[0][0].xaxis.set_major_locator(MaxNLocator(4))
        if sharey:
            axes[0][0].yaxis.set_major_locator(MaxNLocator(4))
    fig.subplots_adjust(
        left=left / width,
        right=1 - right / width,
        top=1 - top / height,
        bottom=bottom / height,
        wspace=gaps[0] / panel[0],
        hspace=gaps[1] / panel[1],
    )
    return fig, axes


def legend(fig: Any, handles: list[Any], names: list[str], title: str | None = None) -> None:
    """One legend for the figure, in its right margin."""
    fig.legend(handles, names, title=title, loc="upper right", fontsize=8, frameon=False)


def to_png(fig: Any) -> bytes:
    """Render a matplotlib Figure to PNG bytes (zlib level 1, RGB: see
    :func:`mlplab.plots.style.encode_png`)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from mlplab.plots.style import encode_png

    for ax in fig.axes:
        _ticks_in_view(ax.xaxis)
        _ticks_in_view(ax.yaxis)
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    buf = io.BytesIO()
    encode_png(canvas, buf)
    return buf.getvalue()


def _ticks_in_view(axis: Any) -> None:
    """Fix a linear axis's ticks to those its locator puts within the view (and an axis
    without a label its label's place).

    Locators also return a tick beyond each end, and matplotlib builds every tick it is
    given (lines, labels) before it drops those outside: a third of the ticks it made,
    and ticks were most of a panel's drawing time. The ticks drawn stay the same.
    """
    if not axis.label.get_text():
        # Nothing to place: a fixed place skips measuring the tick labels to dodge them.
        axis.set_label_coords(0.5, 0.5)
    if axis.get_scale() != "linear":
        return
    low, high = sorted(axis.get_view_interval())
    locs = axis.get_majorticklocs()
    slack = (high - low) * 1e-10  # as matplotlib's own test, which keeps ends within it
    inside = [x for x in locs if low - slack <= x <= high + slack]
    if len(inside) < len(locs):
        axis.set_ticks(inside)


def accuracy_axis(ax: Any) -> None:
    """End ``ax``'s y axis (an accuracy's, autoscaled) at 1, with ticks no higher.

    Autoscaling runs past 1 by its margin: a sweep whose runs all reached 1 had an axis
    to 1.055, ticked at 1.02 and 1.05, accuracies no run can have. What stays above 1
    is a sliver, for the markers drawn at 1, with no tick in it.
    """
    from matplotlib.ticker import MaxNLocator

    low, high = ax.get_ylim()
    if high <= 1.0 or low >= 1.0:
        return
    # Steps that 1 is a multiple of: 1 is one of the ticks.
    ticks = MaxNLocator(nbins=5, steps=[1, 2, 2.5, 5, 10]).tick_values(low, 1.0)
    ax.set_yticks([float(t) for t in ticks if low <= t <= 1.0])
    ax.set_ylim(low, 1.0 + 0.03 * (1.0 - low))


def clipped_band(mean: np.ndarray, std: np.ndarray, metric: str) -> tuple[np.ndarray, np.ndarray]:
    """``mean ± std`` clipped to the range of ``metric`` (:func:`metric_bounds`)."""
    low, high = metric_bounds(metric)
    return np.clip(mean - std, low, high), np.clip(mean + std, low, high)


def mean_std(values: np.ndarray, axis: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """NaN-ignoring mean and sample std (ddof=1; 0 where one value) along ``axis``."""
    x = np.asarray(values, dtype=float)
    count = np.sum(~np.isnan(x), axis=axis)
    with np.errstate(invalid="ignore", divide="ignore"):
        total = np.nansum(x, axis=axis)
        mean = np.where(count > 0, total / np.maximum(count, 1), np.nan)
        sq = np.nansum((x - np.expand_dims(mean, axis)) ** 2, axis=axis)
        std = np.where(count > 1, np.sqrt(sq / np.maximum(count - 1, 1)), 0.0)
    return mean, std


# --- bars --------------------------------------------------------------------------------


def bars(runs: pd.DataFrame, var1: str | None, var2: str | None, metric: str) -> Plot | None:
    """Bars of train/val/test ``metric`` (one panel per split): x = var1, colour = var2."""
    from matplotlib.collections import LineCollection, PolyCollection
    from matplotlib.colors import to_rgba
    from matplotlib.patches import Patch

    splits = [s for s in ("train", "val", "test") if f"{s}_{metric}" in runs]
    if not splits:
        return None
    xs = level_order(runs[var1]) if var1 else [""]
    hues = level_order(runs[var2]) if var2 else [""]
    lab1, lab2 = labels(runs, var1), labels(runs, var2)
    panel_width = max(2.6, 0.35 * len(xs) * len(hues) ** 0.5 + 0.8)
    # Too long to stand side by side (a random search's sampled values): upright, with
    # room below for the longest (they were cut at the figure's edge, the axis title too).
    upright = sum(len(x) + 1 for x in drawn(xs)) * 0.075 > panel_width - 0.4
    bottom = 0.65 + (0.085 * max(len(x) for x in drawn(xs)) if upright else 0.0)
    fig, grid = panel_figure(
        1, len(splits), (panel_width, 2.8), margins=(0.8, 1.1, 0.45, bottom), sharey=True
    )
    axes = grid[0]
    colors = palette(len(hues))
    width = 0.8 / len(hues)
    # [hue, x]: the centre of each bar, its colour.
    pos = np.arange(len(xs)) - 0.4 + width * (np.arange(len(hues))[:, None] + 0.5)
    face = np.repeat(np.array([to_rgba(c) for c in colors]), len(xs), axis=0)
    for ax, split in zip(axes, splits, strict=True):
        col = f"{split}_{metric}"
        values = pd.to_numeric(runs[col], errors="coerce").to_numpy(dtype=float)
        grouped = pd.DataFrame({"h": lab2, "x": lab1, "v": values}).groupby(["h", "x"])["v"]
        mean, std = (
            getattr(grouped, f)().unstack().reindex(index=hues, columns=xs).to_numpy(dtype=float)
            for f in ("mean", "std")
        )
        low, high = clipped_band(mean, np.nan_to_num(std), col)
        # One collection for all bars and one for all error bars: a patch and an
        # errorbar container per bar took most of the time of a panel of 8 x 8 bars.
        shown = ~np.isnan(mean).ravel()
        left, mid, right = (pos - width / 2).ravel(), pos.ravel(), (pos + width / 2).ravel()
        top = mean.ravel()
        boxes = np.stack([left, 0 * top, left, top, right, top, right, 0 * top], 1)
        bar_set = PolyCollection(
            boxes.reshape(-1, 4, 2)[shown], facecolors=face[shown], edgecolors="none"
        )
        bar_set.sticky_edges.y.append(0)  # as ax.bar: no margin below the bars' base
        ax.add_collection(bar_set)
        spans = np.stack([mid, low.ravel(), mid, high.ravel()], 1).reshape(-1, 2, 2)
        ax.add_collection(LineCollection(spans[shown], colors="#333", zorder=2))
        ax.set_xticks(np.arange(len(xs)), drawn(xs))
        if upright:
            ax.tick_params(axis="x", labelrotation=90)
        # Every level's place, bars or not (as autoscaling with its 5% margins would give
        # when all are there): a panel whose end bars are missing keeps its width.
        margin = 0.05 * (len(xs) - 0.2)
        ax.set_xlim(-0.4 - margin, len(xs) - 0.6 + margin)
        ax.set_title(split, y=1.0)
        ax.set_xlabel(var1 or "")
        if metric == "acc":
            ax.set_ylim(0, 1.05)
            ax.set_yticks([0.0, 0.2, 0.4, 0.6, 0.8, 1.0])  # 1 labelled; it ticked 0.3, 0.6, 0.9
    axes[0].set_ylabel(metric_label(metric))
    if var2:
        legend(fig, [Patch(facecolor=c) for c in colors], drawn(hues), title=var2)
    by = f" by {var1}" + (f", coloured by {var2}" if var2 else "") if var1 else ""
    return Plot(
        f"bars_{metric}",
        f"train / val / test {metric_label(metric)}{by}",
        "bars: mean of the finished runs, over seeds (and any other settings); error "
        "bars: ± 1 std of those runs, within the metric's range (the table's 95% CI is "
        "the interval of the mean)",
        to_png(fig),
    )


def palette(n: int) -> list[Any]:
    from matplotlib import colormaps

    if n <= 1:
        return ["#4c72b0"]
    # Not viridis' last tenth: its yellow-green bars stood pale on the white page.
    return [colormaps["viridis"](x) for x in np.linspace(0.05, 0.8, n)]


# --- curves ------------------------------------------------------------------------------


def curve_names(kind: str) -> tuple[str, str]:
    """result.json names of the train and val curves of ``kind`` (``loss``, ``acc``...)."""
    plural = f"{kind}es" if kind == "loss" else f"{kind}s"
    return f"train_{plural}", f"val_{plural}"


def curve_points(row: dict[str, Any], kind: str) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """A run's train and val curves of ``kind`` as ``{split: (epochs, values)}``."""
    train_name, val_name = curve_names(kind)
    found = curve_lists(row.get(train_name), row.get(val_name), row.get("val_epochs"), kind)
    return {
        split: (np.asarray(epochs, dtype=float), np.array(values, dtype=float))
        for split, epochs, values in found
    }


def curve_lists(
    train: Any, val: Any, val_epochs: Any, kind: str
) -> list[tuple[str, list[Any], list[Any]]]:
    """``(split, epochs, values)`` of a run's train and val curves, as recorded (lists).

    Curves are recorded at ``val_epochs``; older records kept the train loss every epoch,
    which is then drawn against 1..n.
    """
    if not isinstance(val_epochs, list):
        val_epochs = None
    out = []
    if isinstance(train, list) and train:
        epochs = val_epochs
        if kind == "loss" and (epochs is None or len(epochs) != len(train)):
            epochs = list(range(1, len(train) + 1))
        if epochs is not None and len(epochs) == len(train):
            out.append(("train", epochs, train))
    if isinstance(val, list) and val and val_epochs and len(val_epochs) == len(val):
        out.append(("val", val_epochs, val))
    return out


@dataclass
class CurveSet:
    """Every run's curves of one kind on one epoch grid: ``train``/``val`` are
    ``[n_runs, len(epochs)]``, NaN where a run has no value (before its first or after
    its last recorded epoch, or no curve at all)."""

    epochs: np.ndarray
    train: np.ndarray
    val: np.ndarray


def curve_set(runs: pd.DataFrame, kind: str) -> CurveSet | None:
    """Resample the ``kind`` curves of ``runs`` onto one grid (None when there are none).

    Curves recorded at the same epochs (all of a sweep's, usually) become one matrix and
    are resampled together: a loop over runs took seconds for 10,000 of them.
    """
    train_name, val_name = curve_names(kind)
    none = [None] * len(runs)
    columns = [runs[c].tolist() if c in runs else none for c in (train_name, val_name)]
    epochs_column = runs["val_epochs"].tolist() if "val_epochs" in runs else none
    same: dict[tuple[str, tuple[Any, ...]], tuple[list[int], list[Any]]] = {}
    for i, (train, val, val_epochs) in enumerate(zip(*columns, epochs_column, strict=True)):
        for split, epochs, values in curve_lists(train, val, val_epochs, kind):
            try:
                rows, matrix = same.setdefault((split, tuple(epochs)), ([], []))
            except TypeError:  # epochs that are lists: an edited record, drawn without
                continue
            rows.append(i)
            matrix.append(values)
    # A record is input: curves of lists or text (edited by hand) are left undrawn, not a
    # traceback. Checked a group at a time, so that 10,000 sound runs cost one conversion.
    groups = []
    for (split, recorded_at), (rows, matrix) in same.items():
        epochs_at = flat_numbers(recorded_at)
        if (
            epochs_at is None
            or not len(epochs_at)
            or not np.isfinite(epochs_at).all()
            or (np.diff(epochs_at) <= 0).any()  # epochs only go up: an edited list
        ):
            continue
        stacked = flat_numbers(matrix, len(epochs_at))  # None (not recorded) becomes NaN
        if stacked is None:  # some run's curve is damaged: keep the others, row by row
            read = [(r, flat_numbers(v)) for r, v in zip(rows, matrix, strict=True)]
            kept = [(r, a) for r, a in read if a is not None and len(a) == len(epochs_at)]
            if not kept:
                continue
            rows, stacked = [r for r, _ in kept], np.stack([a for _, a in kept])
        groups.append((split, epochs_at, rows, stacked))
    if not groups:
        return None
    first = min(epochs[0] for _, epochs, _, _ in groups)
    last = max(epochs[-1] for _, epochs, _, _ in groups)
    grid = np.unique(np.linspace(float(first), float(last), MAX_CURVE_POINTS).round())
    arrays = {s: np.full((len(runs), len(grid)), np.nan) for s in ("train", "val")}
    for split, epochs_at, rows, stacked in groups:
        arrays[split][rows] = resample(epochs_at, stacked, grid)
    return CurveSet(grid, arrays["train"], arrays["val"])


def flat_numbers(values: Any, width: int | None = None) -> np.ndarray | None:
    """``values`` as floats: a 1-D array, or with ``width`` a ``[rows, width]`` matrix; None
    when they are not that (nested lists, text)."""
    try:
        array = np.array(values, dtype=float)
    except (TypeError, ValueError, OverflowError):  # OverflowError: an int past 1e308
        return None
    if width is None:
        return array if array.ndim == 1 else None
    return array if array.ndim == 2 and array.shape[1] == width else None


def resample(epochs: np.ndarray, values: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """Linear interpolation of ``values`` ``[runs, len(epochs)]`` at ``grid`` -> ``[runs,
    len(grid)]``; NaN outside ``[epochs[0], epochs[-1]]``."""
    if len(epochs) == 1:
        out = np.full((len(values), len(grid)), np.nan)
        out[:, grid == epochs[0]] = values
        return out
    right = np.clip(np.searchsorted(epochs, grid), 1, len(epochs) - 1)
    left = right - 1
    weight = (grid - epochs[left]) / (epochs[right] - epochs[left])
    out = values[:, left] * (1 - weight) + values[:, right] * weight
    out[:, (grid < epochs[0]) | (grid > epochs[-1])] = np.nan
    return out


def _scaled_loss(runs: pd.DataFrame) -> str:
    """`` (standardized target)`` where the runs' loss is of a regression's scaled target,
    as a run's own loss plot says: an MSE of 0.02 beside a val_mse of 0.16 read as wrong."""
    if "standardize_target" not in runs:
        return ""
    scaled = runs["standardize_target"].astype(str).str.lower() == "true"
    if "task_type" in runs:  # a classification's runs take the setting and leave it unused
        scaled &= runs["task_type"] == "regression"
    if scaled.all():
        return " (standardized target)"
    return " (standardized target in some runs)" if scaled.any() else ""


def curves(
    runs: pd.DataFrame,
    var1: str | None,
    var2: str | None,
    kind: str,
    test_metric: str,
    scattered: bool = False,
) -> Plot | None:
    """Panels of train/val ``kind`` curves (rows = var2, columns = var1), test metric in
    each panel's corner. Variables with more than MAX_LEVELS levels share one panel, as
    do all runs where the two are ``scattered`` (a random search's: no grid)."""
    from matplotlib.collections import LineCollection
    from matplotlib.lines import Line2D

    data = curve_set(runs, kind)
    if data is None or (np.isnan(data.train).all() and np.isnan(data.val).all()):
        return None
    # A swept setting of too many levels for panels (a random search's lr): its runs share
    # a panel as different configs, whose spread is no noise around one mean.
    mixed = var1 is not None and (scattered or not panelled(runs, var1, var2))
    why = one_panel_why(runs, var1, var2) if var1 and mixed and not scattered else ""
    var1 = var1 if not mixed else None
    var2 = var2 if var1 and few_levels(runs, var2) else None
    cols = level_order(runs[var1]) if var1 else [""]
    rows = level_order(runs[var2]) if var2 else [""]
    lab1, lab2 = labels(runs, var1), labels(runs, var2)
    # More values than a row holds (a setting of names swept alone): rows of panels.
    wraps = math.ceil(len(cols) / MAX_LEVELS)
    per_row = math.ceil(len(cols) / wraps)
    fig, axes = panel_figure(
        len(rows) * wraps, per_row, (2.4, 1.7), margins=(1.0, 0.9, 0.45, 0.55), sharex=True,
        sharey=True,
    )  # fmt: skip
    for k in range(len(cols), wraps * per_row):  # the last row's empty places
        axes[-1][k % per_row].set_visible(False)
        # The panel above it is its column's lowest: it keeps its epoch ticks.
        axes[-2][k % per_row].tick_params(axis="x", labelbottom=True)
        axes[-2][k % per_row].set_xlabel("epoch")
    name = f"{kind}s" if kind != "loss" else "losses"
    of = _scaled_loss(runs) if kind == "loss" else ""
    test_col = f"test_{test_metric}"
    test = pd.to_numeric(runs.get(test_col, pd.Series(np.nan, index=runs.index)), "coerce")
    test_values = test.to_numpy(dtype=float)
    lines_drawn = False
    # Limits once, at the end: with autoscaling on, every curve added re-scaled all the
    # panels that share its axes (for 8 panels, hundreds of limit changes).
    for ax in axes.flat:
        ax.set_autoscale_on(False)
    log = kind != "acc" and use_log_scale(np.concatenate([data.train.ravel(), data.val.ravel()]))
    # A gate's train, val and test are its 4 rows: the train curve would lie under the val
    # one (a step behind it), so one curve is drawn, named for all three, as in a run's
    # own loss plot.
    shared = "data" in runs and bool(runs["data"].isin(list(GATES)).all())
    splits = ("val",) if shared else ("train", "val")
    for r, row_level in enumerate(rows):
        for k, col_level in enumerate(cols):
            i, c = divmod(k, per_row)
            ax = axes[r * wraps + i][c]
            mask = (lab1 == col_level) & (lab2 == row_level)
            for split in splits:
                values = getattr(data, split)[mask]
                values = values[~np.isnan(values).all(axis=1)]
                if not len(values):
                    continue
                # Dashed val, as a run's own loss plot draws it: by colour alone, train and
                # val were one line to a reader who sees no colour (or prints in grey).
                color, dash = SERIES[split], "--" if split == "val" and not shared else "-"
                if len(values) <= MAX_LINES:
                    lines_drawn = True
                    # [runs, points, (x, y)]: one collection draws them all at once.
                    segments = list(
                        np.stack([np.broadcast_to(data.epochs, values.shape), values], -1)
                    )
                    ax.add_collection(
                        LineCollection(
                            segments, colors=color, linewidths=0.6, alpha=0.25, linestyles=dash
                        )
                    )
                mean, low, high = _centre_and_band(values, f"{split}_{name}", log, mixed)
                ax.fill_between(data.epochs, low, high, color=color, alpha=0.2, linewidth=0)
                ax.plot(data.epochs, mean, color=color, linewidth=1.6, linestyle=dash)
            _test_note(ax, test_values[mask], test_metric)
            if r == 0 and var1:
                ax.set_title(f"{var1} = {shorten(col_level, LABEL_CHARS)}", fontsize=9, y=1.0)
            if c == 0:
                where = f"{var2} = {shorten(row_level, LABEL_CHARS)}\n" if var2 else ""
                ax.set_ylabel(f"{where}{metric_label(kind)}{of}", fontsize=9)
            if r == len(rows) - 1 and i == wraps - 1:
                ax.set_xlabel("epoch")
    from matplotlib.ticker import MaxNLocator

    for ax in axes.flat:
        ax.set_autoscale_on(True)
        # Epochs are whole: a run of 5 epochs had its ticks at 1.5, 3.0 and 4.5.
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes[0][0].autoscale_view()  # the shared limits of every panel
    if kind == "acc":
        accuracy_axis(axes[0][0])
    if log:
        # As a run's own loss plot: early spikes would flatten every later curve on 0.
        set_log_y(axes[0][0])  # the panels share their y axis, scale included
    points = np.concatenate([data.train.ravel(), data.val.ravel()])
    points = points[np.isfinite(points)]
    if kind != "acc" and len(points):
        # The top of the shared y range is the 99th percentile of the points: one run's
        # spike to 1e10 squashed every other panel's curves flat (it leaves its panel now).
        bottom, top = float(points.min()), float(np.percentile(points, 99))
        if log:
            axes[0][0].set_ylim(bottom / 1.5, top * 1.5)
            # Labels for the range shown: set for 3 decades, a panel of less than one
            # had a single labelled tick (0.1) to read its curves by.
            set_log_y(axes[0][0], decades=math.log10(top * 1.5 / (bottom / 1.5)))
        elif top > bottom:
            pad = 0.05 * (top - bottom)
            axes[0][0].set_ylim(bottom - pad, top + pad)
    handles = [
        Line2D(
            [],
            [],
            color=SERIES[s],
            linewidth=1.6,
            linestyle="--" if s == "val" and not shared else "-",
        )
        for s in splits
    ]
    legend(fig, handles, [SHARED_LABEL] if shared else list(splits))
    what = f"loss{of}" if kind == "loss" else metric_label(kind)
    where = f": rows {var2}, columns {var1}" if var2 else f" by {var1}" if var1 else ""
    return Plot(
        f"curves_{kind}",
        f"{what} curves{where}",
        (
            f"val {what} against epoch (the gate's 4 rows, train and test alike)"
            if shared
            else f"train and val {what} against epoch"
        )
        + ": "
        + (
            "thick line the median over the panel's runs (configs of different settings), "
            "band from their 25th to 75th percentile"
            if mixed
            else "thick line the mean over the panel's runs (seeds and any other settings), "
            "band ± 1 std within the metric's range"
            + (
                " (on the log axis, the geometric mean, band × or ÷ one geometric std, no "
                "lower than the lowest run)"
                if log
                else ""
            )
        )
        + (
            "; the y range stops at the 99th percentile of the points, so a run's spike "
            "may leave its panel"
            if kind != "acc"
            else ""
        )
        + (f"; thin lines each run (panels of at most {MAX_LINES})" if lines_drawn else "")
        + f"; the panel's test {metric_label(test_metric)} (mean ± std) where it hides least"
        + why,
        to_png(fig),
    )


def _centre_and_band(
    values: np.ndarray, metric: str, log: bool, mixed: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A panel's thick line and band of ``values`` ``[runs, points]``: the median and the
    25th to 75th percentile for runs of different configs (``mixed``); else the mean ± 1 std
    over seeds, taken on log values on a log axis (a spike of one seed to 1e10 moved the
    arithmetic mean there, and mean - std <= 0 plunged to the axis' foot)."""
    with warnings_caught():  # an epoch no run reached is NaN in every row
        warnings.simplefilter("ignore", RuntimeWarning)
        if mixed:
            low, mid, high = np.nanpercentile(values, [25, 50, 75], axis=0)
            return mid, low, high
        if log:
            logs = np.log10(np.where(values > 0, values, np.nan))
            mean, std = mean_std(logs)
            # No lower than the lowest run: a band's foot is no loss any run reached.
            low = np.fmax(10 ** (mean - std), np.nanmin(values, axis=0))
            return 10**mean, low, 10 ** (mean + std)
    mean, std = mean_std(values)
    low, high = clipped_band(mean, std, metric)
    return mean, low, high


def _test_note(ax: Any, values: np.ndarray, metric: str) -> None:
    values = values[~np.isnan(values)]
    if not len(values):
        return
    spread = f" ± {values.std(ddof=1):.3f}" if len(values) > 1 else ""
    # A legend of no entries, for its placement: matplotlib puts it where it covers the
    # fewest points of the panel's lines. A fixed corner covered the curves where they
    # ended (a loss plateau along the foot of a shared axis).
    ax.legend(
        handles=[],
        title=f"test {metric_label(metric)} {values.mean():.3f}{spread}",
        title_fontsize=8,
        loc="best",
        framealpha=0.8,
        borderpad=0.3,
    )


# --- metric against each setting -----------------------------------------------------------


def vs_param(runs: pd.DataFrame, variables: list[str], metric: str) -> Plot | None:
    """Val and test ``metric`` against each swept setting, one panel per setting: mean ±
    1 std per level, or every run as a point when a setting has many values."""
    cols = [c for c in (f"val_{metric}", f"test_{metric}") if c in runs]
    if not variables or not cols:
        return None
    shown = variables[:6]
    # Runs that each change one setting of a config most of them share (a student's way):
    # a panel's points are that setting's runs and the shared config's alone. Averaged
    # over the others too, one poor run (SGD at Adam's lr) pulled every other panel's
    # shared value down, and each change read as a gain (relu 0.92 against sigmoid 0.99,
    # where seeds of the two alone gave 0.98 against 0.95).
    base = one_at_a_time(runs, variables)
    every_run = runs
    # A setting of names is drawn at its values' labels: 11 activations (even 8) ran
    # together into one string. Wider panels for many, and labels upright, as the bars'.
    named_levels = [drawn(level_order(runs[v])) for v in shown if not _numeric_setting(runs, v)]
    most = max((len(levels) for levels in named_levels), default=0)
    panel_width = max(2.8, 0.28 * most + 0.6)
    upright = any(sum(len(x) + 1 for x in lv) * 0.075 > panel_width - 0.4 for lv in named_levels)
    longest = max((len(x) for lv in named_levels for x in lv), default=0)
    bottom = 0.2 + 0.07 * longest if upright else 0.65  # no axis title below: the var is above
    fig, grid = panel_figure(
        1, len(shown), (panel_width, 2.6), margins=(0.8, 1.1, 0.45, bottom), sharey=True
    )
    axes = grid[0]
    scattered_runs = False  # a panel of one point per run
    for ax, var in zip(axes, shown, strict=True):
        runs = every_run
        if base is not None:
            others = [v for v in variables if v != var]
            runs = every_run[
                np.all([np.isin(labels(every_run, v), [base[v], MISSING]) for v in others], axis=0)
            ]
        numeric = pd.to_numeric(runs[var], errors="coerce")
        is_numeric = _numeric_setting(runs, var)
        many = not few_levels(runs, var)
        scattered_runs |= many and is_numeric
        low_v = float(numeric.min()) if is_numeric else 0.0
        high_v = float(numeric.max()) if is_numeric else 0.0
        # Values that span a decade are evenly spaced in log: lr 0.01 0.03 0.1, widths 4 16
        # 64 (on a linear axis 4 and 16 crowd at the left); widths 8 to 32 read as they are.
        log_x = is_numeric and low_v > 0 and high_v / low_v >= 10
        for k, col in enumerate(cols):
            split = col.split("_")[0]
            values = pd.to_numeric(runs[col], errors="coerce").to_numpy(dtype=float)
            color = SERIES[split]
            if many and is_numeric:
                ax.scatter(numeric, values, s=6, alpha=0.35, color=color, label=split,
                           marker="o" if split == "val" else "s", rasterized=True,
                           linewidths=0)  # fmt: skip
                continue
            levels = level_order(runs[var])
            lab = labels(runs, var)
            stats = pd.DataFrame({"x": lab, "v": values}).groupby("x")["v"].agg(["mean", "std"])
            stats = stats.reindex(levels)
            mean = stats["mean"].to_numpy(dtype=float)
            std = np.nan_to_num(stats["std"].to_numpy(dtype=float))
            low, high = clipped_band(mean, std, col)
            if is_numeric:
                x = np.array([float(v) for v in levels])
                # Val and test side by side, not one bar over the other.
                shift = (k - 0.5) * 0.06
                x = (
                    x * 10 ** (shift * math.log10(high_v / low_v) / 2)
                    if log_x
                    else (x + shift * (high_v - low_v))
                )
            else:
                x = np.arange(len(levels)) + (k - 0.5) * 0.15
                ax.set_xticks(np.arange(len(levels)), drawn(levels))
                ax.set_xlim(-0.6, len(levels) - 0.4)
                if upright:
                    ax.tick_params(axis="x", labelrotation=90)
            # Val and test told apart by marker and line too, not by colour alone.
            ax.errorbar(x, mean, yerr=[mean - low, high - mean], color=color,
                        marker="o" if split == "val" else "s", markersize=4, capsize=3,
                        label=split,
                        linestyle=("-" if split == "val" else "--") if is_numeric else "none")  # fmt: skip
        if is_numeric:
            from matplotlib.ticker import (
                FuncFormatter,
                LogLocator,
                MaxNLocator,
                NullFormatter,
                NullLocator,
            )

            whole = bool((numeric % 1 == 0).all())
            if log_x:
                ax.set_xscale("log")
                # Plain numbers at 1-2-5 steps (decades alone past 1.5 decades): over
                # a decade or so, matplotlib labels its minor ticks too, and hid_dim 4 to
                # 64 ran together as 4×10⁰ 6×10⁰ 2×10¹ ...
                steps = (1.0, 2.0, 5.0) if high_v / low_v < 30 else (1.0,)
                ax.xaxis.set_major_locator(LogLocator(subs=steps))
                ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
                ax.xaxis.set_minor_formatter(NullFormatter())
            values_x = sorted({float(v) for v in numeric})
            at = np.log10(values_x) if log_x else np.array(values_x)
            # A tick at each swept value (8 16 32, not 9 12 15 ...) where they stand apart:
            # a random search's lrs of 0.0101 to 0.0121 ran together into one blot.
            apart = len(at) < 2 or float(np.diff(at).min()) >= (at[-1] - at[0]) / 8
            if not many and apart:
                ax.set_xticks(values_x, [level_label(v) for v in values_x], fontsize=8)
                ax.xaxis.set_minor_locator(NullLocator())
            elif whole and not log_x:  # no tick at 7.5
                ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_title(var, y=1.0)
    axes[0].set_ylabel(metric_label(metric))
    if metric == "acc":
        accuracy_axis(axes[0])  # the panels share it
    legend(fig, *axes[0].get_legend_handles_labels())
    return Plot(
        f"vs_param_{metric}",
        f"{metric_label(metric)} against each swept setting",
        (
            "val and test: points the mean of the runs at that value that change this "
            "setting alone, of the config most runs share ("
            + ", ".join(f"{v} {base[v]}" for v in shown)
            + "), over seeds; bars ± 1 std of those runs, within the metric's range"
            if base is not None
            else "val and test: points the mean of every finished run at that value, over "
            "seeds and the other settings; bars ± 1 std of those runs (so the other "
            "settings' effect is in it), within the metric's range"
        )
        + (
            f"; a setting of more than {MAX_LEVELS} numbers: one point per run, no bars"
            if scattered_runs
            else ""
        )
        + (
            f"; the first {len(shown)} of {len(variables)} settings: "
            f"{', '.join(variables[len(shown) :])} not drawn (the table has them)"
            if len(variables) > len(shown)
            else ""
        ),
        to_png(fig),
    )


def one_at_a_time(runs: pd.DataFrame, variables: list[str]) -> dict[str, str] | None:
    """The config most runs share, by each setting's label, where every run differs from
    it in one setting at most, and runs differ in two settings or more: runs that change
    one setting at a time. None for a grid (2 x 2 has a run of two changes) or one axis."""
    if len(variables) < 2:
        return None
    named = {v: pd.Series(labels(runs, v)) for v in variables}
    base = {v: str(named[v].mode().iloc[0]) for v in variables}
    # A setting a run does not apply (mm beside adam, blank) is no change of it.
    changed = np.array(
        [((named[v] != base[v]) & (named[v] != MISSING)).to_numpy() for v in variables]
    )
    changes = changed.sum(axis=0)
    # Runs of that config itself, the point every panel compares with: a list of rows
    # (adam sigmoid, sgd relu) has each setting's commonest value, but no run of both.
    if changes.max() != 1 or not (changes == 0).any():
        return None
    if np.count_nonzero(changed.any(axis=1)) < 2:
        return None
    return base


def _numeric_setting(runs: pd.DataFrame, var: str) -> bool:
    """Whether every value of ``var`` is a number (not a bool): drawn on a number axis."""
    numeric = pd.to_numeric(runs[var], errors="coerce")
    return bool(numeric.notna().all() and runs[var].map(lambda v: not isinstance(v, bool)).all())


# --- heatmap ---------------------------------------------------------------------------------


def heatmap(summary: pd.DataFrame, var1: str, var2: str, metric: str) -> Plot | None:
    """Mean val ``metric`` over var1 (columns) × var2 (rows), from the replicate summary:
    the report passes the metric its table ranks by (``mse`` for ``val_mse``)."""
    col = f"val_{metric}_mean"
    if col not in summary:
        return None
    table = pd.DataFrame(
        {"c": labels(summary, var1), "r": labels(summary, var2), "v": summary[col]}
    ).pivot_table(index="r", columns="c", values="v", aggfunc="mean", dropna=False)
    # (dropna=False: a row of configs that all diverged, an lr too high for every model,
    # stays, marked, rather than vanishing from the grid.)
    # A random search's continuous axes make a grid of one filled cell per row, its tick
    # labels running together; the scatter plots show those runs, one point each.
    if table.empty or max(table.shape) > 30 or table.notna().to_numpy().mean() < 0.5:
        return None
    table = table.reindex(
        index=[v for v in level_order(summary[var2]) if v in table.index],
        columns=[v for v in level_order(summary[var1]) if v in table.columns],
    )
    values = table.to_numpy(dtype=float)
    # The configs of each cell, finished or not: a cell of configs none of whose runs
    # finished (all diverged) was left white, as one no config fills.
    configs = pd.crosstab(labels(summary, var2), labels(summary, var1)).reindex(
        index=table.index, columns=table.columns, fill_value=0
    )
    # A loss or MSE of 9491 beside ones of 0.1 painted every other cell alike: past two
    # decades, the colours go by the logarithm.
    finite = values[np.isfinite(values)]
    log = metric in LOWER_IS_BETTER and finite.size > 1 and finite.min() > 0
    log = log and finite.max() / finite.min() > 100
    fig, grid = panel_figure(
        1,
        1,
        (0.8 * table.shape[1] + 0.6, 0.45 * table.shape[0] + 0.4),
        margins=(1.0, 1.4, 0.45, 0.65),
    )
    ax = grid[0][0]
    from matplotlib.colors import LogNorm

    image = ax.imshow(
        values,
        # The best cell bright, whichever way the metric goes: R² and accuracy up, errors down.
        cmap="viridis_r" if metric in LOWER_IS_BETTER else "viridis",
        aspect="auto",
        norm=LogNorm() if log else None,
    )
    ax.set_xticks(np.arange(table.shape[1]), drawn(list(table.columns)))
    ax.set_yticks(np.arange(table.shape[0]), drawn(list(table.index)))
    ax.set_xlabel(var1)
    ax.set_ylabel(var2)
    if values.size <= 200:
        decimals = 3 if metric == "acc" else _common_decimals(values)
        form = "{:.3g}" if decimals is None else f"{{:.{decimals}f}}"
        for (i, j), v in np.ndenumerate(values):
            if not np.isnan(v):
                ax.text(j, i, form.format(v), ha="center", va="center", fontsize=9,
                        color=ink_on(image.cmap(image.norm(v))))  # fmt: skip
            elif configs.iat[i, j]:
                ax.text(j, i, "none\nfinished", ha="center", va="center", fontsize=7,
                        color="#666")  # fmt: skip
    # The colour bar in the right margin, not taken from the panel.
    bar_axes = fig.add_axes(
        (
            1 - 1.2 / fig.get_figwidth(),
            ax.get_position().y0,
            0.15 / fig.get_figwidth(),
            ax.get_position().height,
        )
    )
    scale = " (log scale)" if log else ""
    fig.colorbar(image, cax=bar_axes, label=f"val {metric_label(metric)}{scale}")
    ax.set_title(f"val {metric_label(metric)} (mean over seeds)", y=1.0)
    # A regression's errors are the target's own (standardize_target scales the loss
    # alone): say so, as a loss on the scaled target had been read for them.
    units = " in the target's units" if metric in ("mae", "mse", "rmse") else ""
    return Plot(
        f"heatmap_{metric}",
        f"val {metric_label(metric)}: {var2} × {var1}",
        "cell: mean over seeds (and over any other swept settings) of val "
        f"{metric_label(metric)}{units}, the metric the table ranks by ('none finished': "
        "every run diverged or failed); the colours span "
        "the lowest cell to the highest, however close (by the logarithm, where the cells "
        "span more than two decades): the table's std and CI say whether a difference is "
        "more than the seeds' spread",
        to_png(fig),
    )


def _common_decimals(values: np.ndarray, digits: int = 3) -> int | None:
    """Decimals that give the smallest cell ``digits`` significant digits, for every cell:
    "0.05316" beside "0.05" (4 significant digits each, trailing zeros dropped) read as
    numbers of different precision. None (each cell its own ``digits`` significant ones)
    where the cells span more than two decades or would need more than 4 decimals:
    35.200000 beside 0.000400 overflowed its cell."""
    finite = np.abs(values[np.isfinite(values) & (values != 0)])
    if not finite.size:
        return digits
    decimals = max(0, digits - 1 - math.floor(math.log10(finite.min())))
    if decimals > 4 or finite.max() / finite.min() > 100:
        return None
    return decimals


def report_plots(
    runs: pd.DataFrame,
    summary: pd.DataFrame,
    variables: list[str],
    kind: str,
    rank_by: str | None = None,
) -> list[Plot]:
    """Every figure that fits the runs: bars, curve panels, metric vs setting, heatmap.

    ``rank_by`` is the metric the table ranks by (``val_mse``, ``val_r2``, ...; the
    default ranking metric of ``kind`` where None): the heatmap shows it.

    Their texts are drawn as written (:data:`~mlplab.plots.style.TEXT_AS_WRITTEN`): swept
    values and data names are the user's, and a `$` in them is no mathtext.
    """
    import matplotlib as mpl

    # Characters that no font has: one line for all the figures.
    rc = with_fallback_font(TEXT_AS_WRITTEN)
    with mpl.rc_context(rc), fonts_noted():  # type: ignore[arg-type]  # stubs want literal keys
        return _report_plots(runs, summary, variables, kind, rank_by)


def _report_plots(
    runs: pd.DataFrame,
    summary: pd.DataFrame,
    variables: list[str],
    kind: str,
    rank_by: str | None,
) -> list[Plot]:
    if runs.empty:
        return []
    # A setting that varies only by applying or not (hid_dim: 4 for the MLP, none for the
    # linear model) is drawn by what it follows: as a variable of its own, it made a
    # sweep over --model linear mlp no grid, and one panel pooled both models' runs.
    variables = [v for v in variables if not _only_where_it_applies(runs, v)]
    metric = "mae" if kind == "regression" else "acc"
    var1 = variables[0] if variables else None
    var2 = variables[1] if len(variables) > 1 else None
    # A random search's two settings of few values each (8 sampled lrs, 2 widths) are no
    # grid: most of their pairs never ran, and bars, panels or a heatmap by them were half
    # empty. Their runs share one panel, and the scatters show them one by one.
    scattered = var1 is not None and var2 is not None and not whole_grid(summary, var1, var2)
    plots: list[Plot | None] = []
    if panelled(runs, var1, var2) and few_levels(runs, var2) and not scattered:
        plots.append(bars(runs, var1, var2, metric))
    plots.append(curves(runs, var1, var2, "loss", metric, scattered))
    plots.append(curves(runs, var1, var2, metric, metric, scattered))
    plots.append(vs_param(runs, variables, metric))
    if var1 and var2 and not scattered:
        # The metric the table beside it ranks by, so that the two order the configs
        # alike: a heatmap of another metric (val MAE, then the val loss on the scaled
        # target) put the table's third config first, or showed val loss under
        # --rank_by val_mae.
        ranked = rank_by or ranking_metric(kind)[0]
        plots.append(heatmap(summary, var1, var2, ranked.removeprefix("val_")))
    return [p for p in plots if p is not None]


def _only_where_it_applies(runs: pd.DataFrame, var: str) -> bool:
    """Whether ``var`` takes one value where it applies and none where it does not (its
    runs' records give None for a setting :func:`mlplab.config.unused_by` names)."""
    levels = set(labels(runs, var))
    return MISSING in levels and len(levels) == 2


def whole_grid(summary: pd.DataFrame, var1: str, var2: str) -> bool:
    """Whether every pair of ``var1`` and ``var2`` values has a config in ``summary``."""
    pairs = set(zip(labels(summary, var1), labels(summary, var2), strict=True))
    return len(pairs) == len(set(labels(summary, var1))) * len(set(labels(summary, var2)))
