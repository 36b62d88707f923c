"""The plots of one run, drawn from its record, its data and its trained model.

:func:`draw_run_plots` is what a finished run and ``mlplab plot RUN_DIR`` call. It
writes, into the run's ``plots/``:

- ``loss``: train and validation loss against epoch (log scale when the loss spans
  more than :data:`LOG_SPAN`), next to accuracy or MAE;
- ``surface`` (2-feature data): the decision surface (classification) or the predicted
  surface (regression), with the data on top and mistakes marked;
- ``regression_3d`` (2-feature regression): true and predicted test y as 3-D scatters,
  and the model's surface;
- ``fit`` (1-feature data): y against x with the model's curve, or each class's
  probability along x;
- ``confusion`` (classification) or ``pred_vs_true`` (regression), on the test split;
- ``network`` when every layer has at most 8 units;
- ``boundary_evolution`` (GIF and grid) when the run kept snapshots.

Each plot has a ``*_figure`` function that draws it from the numbers it shows (a
surface, points, counts: :mod:`mlplab.plots.inputs`, :mod:`mlplab.plots.surfaces`) and
returns the :class:`~matplotlib.figure.Figure`, so that tests and notebooks can read
the artists (titles, limits, image arrays) behind the files.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.cm import ScalarMappable
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import FuncFormatter, LogLocator, MaxNLocator, NullLocator

from mlplab.data.dataset import Dataset
from mlplab.engines.spec import LOSS_OF_TASK, ModelSpec
from mlplab.plots import network, surfaces
from mlplab.plots.decisions import true_classes
from mlplab.plots.inputs import MAX_POINTS as MAX_POINTS  # re-exported
from mlplab.plots.inputs import (
    Confusion,
    DataInfo,
    PointSet,
    can_draw_network,
    confusion_of_test,
    curve_indices,
    fit_curve,
    split_points,
    surface_points,
    test_metrics_by_target,
)
from mlplab.plots.inputs import confusion_counts as confusion_counts  # re-exported
from mlplab.plots.labels import plane_names
from mlplab.plots.recorder import STEM as SNAPSHOT_STEM
from mlplab.plots.recorder import SnapshotRecorder
from mlplab.plots.snapshots import write_gif_file, write_grid_file
from mlplab.plots.style import (
    BINARY_CMAP,
    MAX_CLASS_TICKS,
    POINT_BLUE,
    POINT_ORANGE,
    SERIES,
    WRONG,
    class_colorbar,
    class_colors,
    display_name,
    model_label,
    new_figure,
    save_figure,
    set_title,
    styled,
)
from mlplab.plots.surfaces import Predict

LOG_SPAN = 20.0  # draw a curve on a log axis when max/min exceeds this (XOR's loss does)
MAX_TARGETS = 4  # regression targets drawn side by side in pred_vs_true and fit
MAX_FIT_CLASSES = 10  # a 1-feature classifier's probability curves: one distinct colour each

DataLike = Dataset | DataInfo  # the label helpers read only names and the task


# --- labels -----------------------------------------------------------------------------------
def metric_text(result: dict[str, Any], task: str) -> str:
    """The test metric for titles, e.g. ``test acc 1.000`` or ``test MAE 0.412, R² 0.93``.

    A diverged run has no test metrics, and ``mlplab plot`` draws its best model, from
    before the loss blew up: the title says both, e.g. ``diverged; best model (epoch 3)``.
    """
    if result.get("status") == "diverged":
        best = result.get("best_epoch")
        return "diverged" + (f"; best model (epoch {best})" if best else "")
    if task == "regression":
        parts = []
        if result.get("test_mae") is not None:
            parts.append(f"test MAE {result['test_mae']:.4g}")
        if result.get("test_r2") is not None:
            r2 = result["test_r2"]  # far below 0 for a model worse than the mean: short
            parts.append(f"R² {r2:.3f}" if abs(r2) < 1000 else f"R² {r2:.3g}")
        return ", ".join(parts) or "test MAE n/a"
    acc = result.get("test_acc")
    return f"test acc {acc:.3f}" if acc is not None else "test acc n/a"


def title_head(data: DataLike, result: dict[str, Any], spec: ModelSpec | None) -> str:
    """``dataset · model``, the first line of every run plot's title."""
    return f"{display_name(data.name)} · {model_label(result, spec)}"


def output_names(data: DataLike) -> list[str]:
    """Names of the model's outputs: the positive class, each class, or each target."""
    if data.task == "binary":
        return [f"P({(data.class_names or ['0', '1'])[1]})"]
    if data.task == "multiclass":
        return list(data.class_names or [])
    return list(data.target_names)


def _class_names(data: DataLike, n: int) -> list[str]:
    names = list(data.class_names or [])
    return names if len(names) == n else [str(i) for i in range(n)]


def _target_name(data: DataLike, t: int) -> str:
    names = list(data.target_names)
    return names[t] if t < len(names) else f"y{t}"


# --- loss curves --------------------------------------------------------------------------------
def use_log_scale(values: list[float] | np.ndarray) -> bool:
    """Whether positive values span more than :data:`LOG_SPAN` (max/min)."""
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    return bool(v.size) and bool(v.min() > 0) and v.max() / v.min() > LOG_SPAN


def train_loss_epochs(result: dict[str, Any]) -> np.ndarray:
    """The epochs of ``train_losses``: ``val_epochs`` where they align, else 1..n.

    Records sample the train loss at validations, one entry per ``val_epochs``; older
    records kept it every epoch (and had as many val epochs only when validating
    every epoch, where both readings agree).
    """
    n = len(result.get("train_losses") or [])
    val_epochs = result.get("val_epochs") or []
    if n and len(val_epochs) == n:
        return np.asarray(val_epochs, dtype=np.float64)
    return np.arange(1, n + 1, dtype=np.float64)


@styled
def loss_figure(result: dict[str, Any], data: DataLike, spec: ModelSpec | None = None) -> Figure:
    """Train and val loss beside accuracy or MAE (train, val), against epoch.

    Where train, val and test are the same rows (``data.shared_splits``, the logic
    gates), one curve is drawn, named for all three. The legend sits above the panels,
    where it hides no curve.

    Parameters
    ----------
    result : dict
        The run's result.json: ``train_losses`` (at each of ``val_epochs``, or per
        epoch in older records), ``val_epochs``, ``val_losses``, and
        ``train_accs``/``val_accs`` or ``train_maes``/``val_maes``.
    data : Dataset or DataInfo
        Only its name, task and ``shared_splits`` are read.
    """
    task = data.task
    fig = new_figure(10.5, 4.6, layout="constrained")
    ax_loss, ax_metric = axes = fig.subplots(1, 2)
    loss_name = LOSS_OF_TASK.get(task, "loss")
    ax_loss.set(xlabel="epoch", ylabel=f"{loss_name} loss")
    set_title(ax_loss, f"loss ({loss_name})")
    key, name = ("mae", "MAE") if task == "regression" else ("acc", "accuracy")
    ax_metric.set(xlabel="epoch", ylabel=name)
    set_title(ax_metric, name)

    val_epochs = np.asarray(result.get("val_epochs") or [], dtype=np.float64)

    def curve(name: str) -> np.ndarray:
        return np.asarray(result.get(name) or [], dtype=np.float64)

    train, val = curve("train_losses"), curve("val_losses")
    m_train, m_val = curve(f"train_{key}s"), curve(f"val_{key}s")
    series = {
        (0, "train"): (train_loss_epochs(result), train),
        (0, "val"): (val_epochs[: len(val)], val),
        (1, "train"): (val_epochs[: len(m_train)], m_train),
        (1, "val"): (val_epochs[: len(m_val)], m_val),
    }
    if data.shared_splits:
        # The same rows: the train curve would lie under the val curve (one step behind
        # it, as the train loss is the epoch's mean before its last update).
        for i in (0, 1):
            kept = (i, "val") if len(series[(i, "val")][1]) else (i, "train")
            series = {k: v for k, v in series.items() if k[0] != i or k == kept}
    # The planned epochs, so that runs of one lab share an x range. A run that ended
    # early (patience, Ctrl-C, divergence) is drawn over the epochs it ran.
    ended_early = bool(result.get("stopped_early")) or result.get("status") in (
        "interrupted",
        "diverged",
    )
    last = 0.0 if ended_early else float(result.get("epoch") or 0)
    for (i, split), (x, y) in series.items():
        if not len(y):
            continue
        idx = curve_indices(y)
        label = SHARED_LABEL if data.shared_splits else split
        # A lone finite point (a diverged run's one validation) is no line: mark it.
        dot = "o" if np.isfinite(y[idx]).sum() == 1 else ""
        axes[i].plot(x[idx], y[idx], color=SERIES[split], lw=1.6, label=label, marker=dot)
        last = max(last, float(x[idx].max()))
    last = last or 1.0
    best = result.get("best_epoch") if result.get("stopped_early") else None
    for ax in axes:
        ax.set_xlim(-0.03 * last, 1.03 * last)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # epochs: no 2.5
        if best:  # early stopping: where the best validation loss was
            ax.axvline(best, color="0.5", ls=":", lw=1.2, label=f"best epoch ({best})")
    _set_curve_axis(ax_loss, np.concatenate([train, val]))
    if task == "regression":
        _set_curve_axis(ax_metric, np.concatenate([m_train, m_val]))
    else:
        ax_metric.set_ylim(-0.03, 1.03)  # accuracy: always the whole 0-1 range
    handles, labels = max((ax.get_legend_handles_labels() for ax in axes), key=lambda h: len(h[0]))
    if len(handles) > 1 or (data.shared_splits and handles):
        fig.legend(handles, labels, loc="outside upper right", ncols=len(handles), frameon=False)
    fig.suptitle(f"{title_head(data, result, spec)}\n{metric_text(result, task)}")
    return fig


SHARED_LABEL = "train = val = test"  # the one curve of data whose splits are the same rows


def curve_limits(values: np.ndarray, log: bool) -> tuple[float, float]:
    """The y range of a curve axis: the curves' own range, with a little room.

    On a log axis the room is a twenty-fifth of the decades spanned on each side, so
    the axis spans only the decades the curves use; on a linear one, round ticks.
    """
    v = values[np.isfinite(values)]
    if log:
        v = v[v > 0]
    if not v.size:
        return (0.0, 1.0)
    lo, hi = float(v.min()), float(v.max())
    if log:
        a, b = np.log10(lo), np.log10(hi)
        pad = 0.04 * max(b - a, 0.5)
        return (float(10.0 ** (a - pad)), float(10.0 ** (b + pad)))
    if hi - lo <= 1e-4 * max(abs(lo), abs(hi)):
        # Flat but for float noise (the perceptron's loss at ln 2 varies by 1e-7): drawn
        # as flat as it is, not stretched over the axis.
        mid = (lo + hi) / 2
        lo, hi = mid - (abs(mid) or 1.0) * 0.05, mid + (abs(mid) or 1.0) * 0.05
    ticks = MaxNLocator(nbins=6, steps=[1, 2, 2.5, 5, 10]).tick_values(lo, hi)
    lo, hi = float(ticks[0]), float(ticks[-1])
    pad = 0.02 * (hi - lo)
    return (lo - pad, hi + pad)


def _set_curve_axis(ax: Axes, values: np.ndarray) -> None:
    log = use_log_scale(values)
    lo, hi = curve_limits(values, log)
    if log:
        set_log_y(ax, decades=np.log10(hi / lo))
    ax.set_ylim(lo, hi)


def set_log_y(ax: Axes, decades: float = 3.0) -> None:
    """A log y axis labelled ``0.001``, ``0.01``, ... with no minor ticks.

    Plain numbers read as well as matplotlib's ``10^{-3}`` and need no mathtext. An
    axis that spans under ``3`` decades is also labelled at 2 and 5 times each decade,
    so that it has more than one label.
    """
    ax.set_yscale("log")
    subs = (1.0, 2.0, 5.0) if decades < 3 else (1.0,)
    ax.yaxis.set_major_locator(LogLocator(base=10.0, subs=subs))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:g}"))
    ax.yaxis.set_minor_locator(NullLocator())


# --- 2-D surfaces -------------------------------------------------------------------------------
@styled
def decision_surface_figure(
    surface: surfaces.ClassSurface,
    points: list[PointSet],
    data: DataLike,
    result: dict[str, Any],
    spec: ModelSpec | None = None,
) -> Figure:
    """The decision surface of a classifier on 2-feature data.

    Binary: a heatmap of P(class 1) with the 0.5 contour. Multiclass: each region in
    its class colour, faded where the model is unsure, with the argmax boundaries.
    ``points`` (:func:`~mlplab.plots.inputs.surface_points`) on top, coloured by their
    true class; points the model gets wrong carry a red x. The legend sits under the
    axes, where it hides no point.
    """
    task, grid = surface.task, surface.grid
    n_classes = surface.n_classes
    fig = new_figure(6.6, 6.0, layout="constrained")
    ax = fig.subplots()
    extent = grid.extent
    names = _class_names(data, n_classes)
    if task == "binary":
        p1 = surface.p1
        image = ax.imshow(
            p1, origin="lower", extent=extent, cmap=BINARY_CMAP, vmin=0, vmax=1, aspect="auto"
        )
        fig.colorbar(image, ax=ax, label=f"P({names[1]})", fraction=0.06, pad=0.03)
        colors = [POINT_BLUE, POINT_ORANGE]
        # No boundary where the model is constant, even to float noise around 0.5.
        if p1.min() < 0.5 < p1.max() and np.ptp(p1) > 1e-4:
            ax.contour(grid.xx, grid.yy, p1, levels=[0.5], colors="k", linewidths=1.5)
    else:
        colors = class_colors(n_classes)
        ax.imshow(
            surfaces.class_rgba(surface, colors), origin="lower", extent=extent, aspect="auto"
        )
        class_colorbar(fig, names, ax=ax, fraction=0.06, pad=0.03)
        present = np.unique(surface.classes)
        if 1 < len(present) <= MAX_CLASS_TICKS:
            # Classes renumbered 0..k-1 among those present: one level between each two,
            # however far apart their indices are.
            rank = np.searchsorted(present, surface.classes)
            levels = np.arange(len(present) - 1) + 0.5
            ax.contour(grid.xx, grid.yy, rank, levels=levels, colors="k", linewidths=1)
    _class_points(fig, ax, points, data, colors, lambda pts: (pts.X[:, 0], pts.X[:, 1]))
    _set_plane(ax, data, extent)
    set_title(
        ax, f"{title_head(data, result, spec)}\ndecision surface · {metric_text(result, task)}"
    )
    return fig


def _class_points(
    fig: Figure,
    ax: Axes,
    points: list[PointSet],
    data: DataLike,
    colors: list[str],
    where: Callable[[PointSet], tuple[np.ndarray, np.ndarray]],
) -> None:
    """Points at ``where(pts)`` in their true class's colour, each mistake marked, and the
    legend of the sets and mistakes under the axes, where it hides no point."""
    handles = []
    n_wrong = 0
    few = all(len(p.X) <= 200 for p in points)  # how mistakes are marked, in every set
    for pts in points:
        (x, y), true = where(pts), true_classes(data.task, pts.y)
        ax.scatter(
            x,
            y,
            c=np.asarray(colors, dtype=object)[true].tolist(),
            marker=pts.marker,
            s=_size(len(x)),
            edgecolors="w",
            linewidths=1.0 if len(x) <= 200 else 0.3,
            zorder=3,
        )
        wrong = pts.pred != true
        if few:  # a few points (a logic gate): a large cross over each mistake
            size = _size(len(x)) * 1.5 + 10
            ax.scatter(x[wrong], y[wrong], marker="x", c=WRONG, s=size, linewidths=2, zorder=4)
        else:  # many: a red rim, so the mistakes do not hide the points' own colours
            ax.scatter(
                x[wrong],
                y[wrong],
                c=np.asarray(colors, dtype=object)[true[wrong]].tolist(),
                marker=pts.marker,
                s=_size(len(x)) * 1.6,
                edgecolors=WRONG,
                linewidths=0.9,
                zorder=4,
            )
        n_wrong += int(wrong.sum())
        handles.append(_marker_handle(pts.marker, pts.label))
    if n_wrong:
        label = f"misclassified ({n_wrong})"
        if few:
            handle = Line2D([], [], ls="", marker="x", color=WRONG, mew=2, ms=8, label=label)
        else:
            handle = Line2D(
                [], [], ls="", marker="o", mfc="0.75", mec=WRONG, mew=1.5, ms=8, label=label
            )
        handles.append(handle)
    if len(handles) > 1:
        fig.legend(handles=handles, loc="outside lower center", ncols=len(handles), frameon=False)


def _marker_handle(marker: str, label: str) -> Line2D:
    return Line2D([], [], ls="", marker=marker, mfc="0.75", mec="k", ms=8, label=label)


def _size(n: int) -> float:
    """Marker area: big for the 4 points of a logic gate, small for thousands."""
    return float(np.clip(3000.0 / max(n, 1), 8.0, 140.0))


def _set_plane(ax: Axes, data: DataLike, extent: tuple[float, float, float, float]) -> None:
    ax.set_xlim(extent[0], extent[1])
    ax.set_ylim(extent[2], extent[3])
    fx, fy = plane_names(data)
    ax.set_xlabel(fx)
    ax.set_ylabel(fy)


def value_range(
    points: list[PointSet], target: int = 0, y_range: tuple[float, float] | None = None
) -> tuple[float, float]:
    """The values a regression plot is scaled to: y, and the model's predictions, on the data.

    The min and max over the points' true y and predicted values of ``target``, widened
    to ``y_range`` (the whole data's y, when fewer points are drawn). Not over the
    grid: the model's extrapolation beyond and between the data (in a corner of the
    plane, say) would set the scale, and squeeze every data point into one colour.
    """
    values = [np.asarray(p.y[:, target], dtype=np.float64) for p in points]
    values += [p.pred[:, target] for p in points]
    flat = np.concatenate(values) if values else np.zeros(0)
    flat = flat[np.isfinite(flat)]
    lo, hi = (float(flat.min()), float(flat.max())) if flat.size else (0.0, 1.0)
    if y_range is not None:
        lo, hi = min(lo, y_range[0]), max(hi, y_range[1])
    if lo == hi:
        lo, hi = lo - 0.5, hi + 0.5
    return lo, hi


def _extend(values: np.ndarray, lo: float, hi: float) -> str:
    """The colour bar's arrows for ``values`` beyond ``[lo, hi]`` (drawn in the end colours)."""
    below, above = bool(np.min(values) < lo), bool(np.max(values) > hi)
    return {(True, True): "both", (True, False): "min", (False, True): "max"}.get(
        (below, above), "neither"
    )


@styled
def regression_surface_figure(
    surface: surfaces.RegressionSurface,
    points: list[PointSet],
    data: DataLike,
    result: dict[str, Any],
    spec: ModelSpec | None = None,
    y_range: tuple[float, float] | None = None,
    by_target: list[dict[str, float]] | None = None,
) -> Figure:
    """The predicted surface of a regressor on 2-feature data, test points on top.

    ``points`` are :func:`~mlplab.plots.inputs.split_points` (train, test); the test
    points are drawn, coloured by their true y on the surface's colour scale, so a
    point that stands out from the surface around it is one the model gets wrong. The
    colour scale is :func:`value_range` (``y_range``: the whole data's y); surface
    values beyond it take the end colours, and the colour bar's arrows say so.
    ``by_target``: each target's test metrics, for the title of the one shown.
    """
    test = points[-1]
    t = surface.target
    X, y = test.X, np.asarray(test.y[:, t], dtype=np.float64)
    fig = new_figure(6.6, 5.6, layout="constrained")
    ax = fig.subplots()
    lo, hi = value_range(points, t, y_range)
    norm = Normalize(lo, hi)
    extent = surface.grid.extent
    im = ax.imshow(
        surface.values, origin="lower", extent=extent, cmap="viridis", norm=norm, aspect="auto"
    )
    target = _target_name(data, t)
    fig.colorbar(
        im,
        ax=ax,
        label=f"predicted {target}",
        extend=_extend(surface.values, lo, hi),
        fraction=0.06,
        pad=0.03,
    )
    if np.ptp(surface.values) > 0:
        ax.contour(
            surface.grid.xx,
            surface.grid.yy,
            np.clip(surface.values, lo, hi),
            levels=np.linspace(lo, hi, 10)[1:-1],
            colors="w",
            linewidths=0.6,
            alpha=0.6,
        )
    ax.scatter(
        X[:, 0],
        X[:, 1],
        c=y,
        cmap="viridis",
        norm=norm,
        s=_size(len(y)),
        edgecolors="k",
        linewidths=0.5,
        zorder=3,
        clip_on=False,  # points on the data's edge are drawn whole
    )
    _set_plane(ax, data, extent)
    set_title(
        ax,
        f"{title_head(data, result, spec)}\npredicted {target} (points: true {target})"
        f" · {_target_text(result, by_target, t, test.y.shape[1])}",
    )
    return fig


@styled
def regression_3d_figure(
    surface: surfaces.RegressionSurface,
    points: list[PointSet],
    data: DataLike,
    result: dict[str, Any],
    spec: ModelSpec | None = None,
    surface_points: int = 40,
    y_range: tuple[float, float] | None = None,
    by_target: list[dict[str, float]] | None = None,
) -> Figure:
    """True test y, predicted test y (3-D scatters) and the model's surface (3-D).

    The lab's own view of regression on a plane; ``points`` and ``y_range`` as for
    :func:`regression_surface_figure`. The z axes and colours span
    :func:`value_range`; the surface is cut off at its ends (and its title says so
    when it is). The surface uses every ``G // surface_points``-th grid point: a mesh
    finer than ~40 x 40 draws slowly and shows nothing more at this size.
    ``by_target`` as for :func:`regression_surface_figure`.
    """
    test = points[-1]
    fig = new_figure(15.0, 5.4)
    t = surface.target
    X = test.X
    y_true = np.asarray(test.y[:, t], dtype=np.float64)
    y_pred = test.pred[:, t]
    lo, hi = value_range(points, t, y_range)
    norm = Normalize(lo, hi)
    target = _target_name(data, t)
    feats = plane_names(data)
    panels = (("true test " + target, y_true), ("predicted test " + target, y_pred))
    for i, (title, z) in enumerate(panels):
        ax = fig.add_subplot(1, 3, i + 1, projection="3d")
        ax.scatter(X[:, 0], X[:, 1], z, c=z, cmap="viridis", norm=norm, s=8, depthshade=False)
        _axes_3d(ax, feats, target, title, lo, hi)
    ax = fig.add_subplot(1, 3, 3, projection="3d")
    step = max(1, surface.grid.xx.shape[0] // surface_points)
    sl = (slice(None, None, step), slice(None, None, step))
    values = surface.values[sl]
    clipped = bool(np.any((values < lo) | (values > hi)))
    ax.plot_surface(
        surface.grid.xx[sl],
        surface.grid.yy[sl],
        np.clip(values, lo, hi),
        cmap="viridis",
        norm=norm,
        linewidth=0,
        antialiased=False,
    )
    title = "model surface" + ("\n(cut off at the data's range)" if clipped else "")
    _axes_3d(ax, feats, target, title, lo, hi)
    fig.subplots_adjust(left=0.01, right=0.93, bottom=0.04, top=0.84, wspace=0.12)
    fig.colorbar(
        ScalarMappable(norm=norm, cmap="viridis"), ax=fig.axes, shrink=0.7, pad=0.03, label=target
    )
    text = _target_text(result, by_target, t, test.y.shape[1])
    fig.suptitle(f"{title_head(data, result, spec)}\n{text}")
    return fig


def _axes_3d(
    ax: Any, feats: tuple[str, str], target: str, title: str, lo: float, hi: float
) -> None:
    ax.set_xlabel(feats[0])
    ax.set_ylabel(feats[1])
    ax.set_zlabel(target)
    ax.set_zlim(lo, hi)
    # A smaller box in its panel: room for the z axis's tick labels, which would
    # otherwise run into the next panel or off the figure.
    ax.set_box_aspect(None, zoom=0.86)
    set_title(ax, title)


# --- any dataset --------------------------------------------------------------------------------
@styled
def confusion_figure(
    confusion: Confusion, data: DataLike, result: dict[str, Any], spec: ModelSpec | None = None
) -> Figure:
    """The confusion matrix of the test split: rows true class, columns predicted class.

    The colour scale runs from 0 to the largest class's count, so a class the model
    gets all right fills its cell. With many classes (see
    :func:`~mlplab.plots.inputs.confusion_of_test`), the most frequent are shown, with a
    column for the others, and the title says how many of how many.
    """
    cm, shown = confusion.counts, confusion.classes
    n = len(shown)
    all_names = _class_names(data, confusion.n_classes)
    names = [all_names[c] for c in shown]
    col_names = names + (["other"] if cm.shape[1] > n else [])
    side = float(np.clip(2.2 + 0.55 * n, 5.0, 9.5))
    fig = new_figure(side + 1.4, side + 0.4, layout="constrained")
    ax = fig.subplots()
    vmax = max(1, int(cm.sum(axis=1).max()))
    image = ax.imshow(cm, cmap="Blues", vmin=0, vmax=vmax, aspect="auto")
    cb = fig.colorbar(image, ax=ax, label="count", fraction=0.06, pad=0.03)
    # Counts are whole numbers: no 0.2-steps on a scale of 0 to 1.
    cb.locator = MaxNLocator(nbins="auto", steps=[1, 2, 2.5, 5, 10], integer=True)
    if n <= 20:
        for i in range(cm.shape[0]):
            for j in range(cm.shape[1]):
                c = int(cm[i, j])
                color = "white" if c > vmax / 2.0 else "black"
                ax.text(j, i, str(c), ha="center", va="center", fontsize=10, color=color)
    # Turned only where the names would run into each other: about 48 characters fit
    # across the axes (ten one-digit classes stay upright; three long names turn).
    turn = len(col_names) * max(len(str(c)) for c in col_names) > 48
    ax.set_xticks(
        np.arange(len(col_names)),
        labels=col_names,
        rotation=45 if turn else 0,
        ha="right" if turn else "center",
    )
    ax.set_yticks(np.arange(n), labels=names)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    split = "train = val = test" if data.shared_splits else "test"
    what = f"confusion matrix ({split})"
    if confusion.capped:
        kept = int(cm.sum())
        what += (
            f"\nthe {n} most frequent of {confusion.n_classes} classes"
            f" ({kept} of {confusion.n_points} test points)"
        )
    set_title(ax, f"{title_head(data, result, spec)} · {metric_text(result, data.task)}\n{what}")
    return fig


@styled
def pred_vs_true_figure(
    points: list[PointSet],
    data: DataLike,
    result: dict[str, Any],
    spec: ModelSpec | None = None,
    by_target: list[dict[str, float]] | None = None,
) -> Figure:
    """Predicted against true y for train and test, per target, with the line y = x.

    The legend sits under the panels, where it hides no point. ``by_target``: each
    target's test metrics, for its panel's title where there are several.
    """
    n_t = min(points[0].y.shape[1], MAX_TARGETS)
    fig, axes = _target_panels(n_t)
    for t, ax in enumerate(axes):
        lo, hi = np.inf, -np.inf
        for pts in points:
            y, pred = pts.y[:, t], pts.pred[:, t]
            _scatter_split(ax, pts, y, pred)
            lo = min(lo, float(y.min()), float(pred.min()))
            hi = max(hi, float(y.max()), float(pred.max()))
        pad = 0.05 * (hi - lo or 1.0)
        ax.plot([lo - pad, hi + pad], [lo - pad, hi + pad], color="k", lw=1, ls="--", label="y = x")
        ax.set_xlim(lo - pad, hi + pad)
        ax.set_ylim(lo - pad, hi + pad)
        target = _target_name(data, t)
        ax.set(xlabel=f"true {target}", ylabel=f"predicted {target}")
        if n_t > 1:  # one target: its axes name it, and a lone title "y" says nothing more
            set_title(ax, _panel_title(target, by_target, t))
    _legend_under(fig, axes[0])
    fig.suptitle(
        f"{title_head(data, result, spec)}\npredicted vs true · {_regression_text(result, n_t)}"
    )
    return fig


def _target_panels(n: int) -> tuple[Figure, np.ndarray]:
    """A figure of ``n`` panels side by side, one per regression target."""
    fig = new_figure(4.8 * n + 0.6, 5.4, layout="constrained")
    return fig, np.atleast_1d(fig.subplots(1, n, squeeze=False)[0])


def _scatter_split(ax: Axes, pts: PointSet, x: np.ndarray, y: np.ndarray) -> None:
    """A split's points in its colour: train faint, test clear."""
    ax.scatter(
        x,
        y,
        s=_size(len(y)) / 2,
        alpha=0.5 if pts.label == "train" else 0.8,
        color=SERIES[pts.label],
        label=pts.label,
        edgecolors="none",
    )


def _legend_under(fig: Figure, ax: Axes) -> None:
    """The legend of ``ax`` (the same in every panel) under the panels, hiding no point."""
    handles, labels = ax.get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=len(handles), frameon=False)


def _panel_title(target: str, by_target: list[dict[str, float]] | None, t: int) -> str:
    """A target's panel title, with its own test metrics where they are known."""
    if not by_target or len(by_target) < 2:
        return target
    m = by_target[t]
    return f"{target} · test MAE {m['mae']:.4g}, R² {m['r2']:.3f}"


def _regression_text(result: dict[str, Any], n_panels: int) -> str:
    """The record's test metrics; with several targets, said to be their mean."""
    text = metric_text(result, "regression")
    return text + " (mean over targets)" if n_panels > 1 and "test" in text else text


def _target_text(
    result: dict[str, Any], by_target: list[dict[str, float]] | None, t: int, n_targets: int
) -> str:
    """Test metrics for a plot of target ``t`` alone: its own where there are several
    targets (the record's are their mean, which would pass for this target's)."""
    if by_target and len(by_target) > 1 and result.get("status") != "diverged":
        m = by_target[t]
        return metric_text({"test_mae": m["mae"], "test_r2": m["r2"]}, "regression")
    return _regression_text(result, n_targets)


@styled
def fit_figure(
    curve: tuple[np.ndarray, np.ndarray],
    points: list[PointSet],
    data: DataLike,
    result: dict[str, Any],
    spec: ModelSpec | None = None,
    by_target: list[dict[str, float]] | None = None,
) -> Figure:
    """A 1-feature regression as the lecture draws a fit: y against x for train and test,
    with the model's curve over the feature's range, per target (``by_target``: as in
    :func:`pred_vs_true_figure`)."""
    x, values = curve
    n_t = min(values.shape[1], MAX_TARGETS)
    fig, axes = _target_panels(n_t)
    for t, ax in enumerate(axes):
        for pts in points:
            _scatter_split(ax, pts, pts.X[:, 0], pts.y[:, t])
        ax.plot(x, values[:, t], color="k", lw=1.6, label="model")
        ax.set_xlim(float(x[0]), float(x[-1]))
        target = _target_name(data, t)
        ax.set(xlabel=([*data.feature_names, "x"])[0], ylabel=target)
        if n_t > 1:
            set_title(ax, _panel_title(target, by_target, t))
    _legend_under(fig, axes[0])
    fig.suptitle(f"{title_head(data, result, spec)}\nfit · {_regression_text(result, n_t)}")
    return fig


@styled
def class_fit_figure(
    curve: tuple[np.ndarray, np.ndarray],
    points: list[PointSet],
    data: DataLike,
    result: dict[str, Any],
    spec: ModelSpec | None = None,
) -> Figure:
    """A 1-feature classifier along its feature: binary, P(class 1) with the points at
    their class, 0 or 1, as a logistic fit is drawn; multiclass, each class's probability,
    with the points in a strip below. Points in their true class's colour, mistakes
    marked as on the decision surface."""
    x, probs = curve
    names = _class_names(data, probs.shape[1])
    fig = new_figure(6.6, 5.4, layout="constrained")
    ax = fig.subplots()
    if data.task == "binary":
        colors = [POINT_BLUE, POINT_ORANGE]
        ax.plot(x, probs[:, 1], color="k", lw=1.6)
        ax.axhline(0.5, color="0.6", lw=1, ls="--")
        ax.set(ylabel=f"P({names[1]})", ylim=(-0.08, 1.08))
        rows = {pts.label: true_classes(data.task, pts.y).astype(float) for pts in points}
    else:
        colors = class_colors(len(names))
        for c, name in enumerate(names):
            ax.plot(x, probs[:, c], color=colors[c], lw=1.6, label=f"P({name})")
        ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False)
        strip = {pts.label: -0.08 * (i + 1) for i, pts in enumerate(points)}
        rows = {pts.label: np.full(len(pts.X), strip[pts.label]) for pts in points}
        ax.set(ylabel="probability", ylim=(-0.08 * len(points) - 0.06, 1.04))
        ax.set_yticks(np.linspace(0, 1, 6))
    _class_points(fig, ax, points, data, colors, lambda pts: (pts.X[:, 0], rows[pts.label]))
    ax.set(xlim=(float(x[0]), float(x[-1])), xlabel=([*data.feature_names, "x"])[0])
    set_title(ax, f"{title_head(data, result, spec)}\nfit · {metric_text(result, data.task)}")
    return fig


# --- all of a run's plots -----------------------------------------------------------------------
def run_figures(
    result: dict[str, Any],
    data: Dataset,
    predict: Predict,
    spec: ModelSpec,
    weights: Mapping[str, np.ndarray] | None = None,
) -> dict[str, Callable[[], Figure]]:
    """Every plot of a run, by file stem in the order they are written, not yet drawn.

    Each value draws its figure when called, so that one failing plot leaves the others
    and only one figure is held at a time. The numbers that several plots share (the
    surface, the points) are taken once, on first use.
    """
    cache: dict[str, Any] = {}

    def once(key: str, make: Callable[[], Any]) -> Any:
        if key not in cache:
            cache[key] = make()
        return cache[key]

    def surface() -> Any:
        return once("surface", lambda: surfaces.surface_for(data, predict))

    def points() -> list[PointSet]:
        return once("points", lambda: split_points(data, predict))

    def y_range() -> tuple[float, float] | None:
        """The first target's range over every split (more than the points drawn)."""
        y0 = np.concatenate([data.y_train[:, 0], data.y_val[:, 0], data.y_test[:, 0]])
        return (float(y0.min()), float(y0.max())) if len(y0) else None

    def by_target() -> list[dict[str, float]]:
        return once("by_target", lambda: test_metrics_by_target(data, predict))

    out: dict[str, Callable[[], Figure]] = {"loss": lambda: loss_figure(result, data, spec)}
    if surfaces.is_planar(data):
        if data.task == "regression":
            out["surface"] = lambda: regression_surface_figure(
                surface(), points(), data, result, spec, y_range=y_range(), by_target=by_target()
            )
            out["regression_3d"] = lambda: regression_3d_figure(
                surface(), points(), data, result, spec, y_range=y_range(), by_target=by_target()
            )
        else:
            out["surface"] = lambda: decision_surface_figure(
                surface(), surface_points(data, predict), data, result, spec
            )

    if data.task == "regression" and data.n_features == 1:
        out["fit"] = lambda: fit_figure(
            fit_curve(data, predict), points(), data, result, spec, by_target()
        )
    elif data.n_features == 1 and len(data.class_names or []) <= MAX_FIT_CLASSES:
        out["fit"] = lambda: class_fit_figure(
            fit_curve(data, predict), surface_points(data, predict), data, result, spec
        )
    if data.task == "regression":
        out["pred_vs_true"] = lambda: pred_vs_true_figure(points(), data, result, spec, by_target())
    else:
        out["confusion"] = lambda: confusion_figure(
            confusion_of_test(data, predict), data, result, spec
        )
    if weights is not None and can_draw_network(spec):
        out["network"] = lambda: network.network_figure(
            dict(weights),
            spec,
            list(data.feature_names),
            output_names(data),
            model_label(result, spec),
        )
    return out


def draw_run_plots(
    plots_dir: str | Path,
    result: dict[str, Any],
    data: Dataset,
    predict: Predict,
    spec: ModelSpec,
    weights: Mapping[str, np.ndarray] | None = None,
    fmt: str = "png",
    snapshots: SnapshotRecorder | None = None,
) -> list[str]:
    """Draw a finished run's plots into ``plots_dir``, in this process; return the names.

    A plot that fails does not stop the others and raises nothing: it is left out, with
    a :class:`RuntimeWarning` that names it and the error, so that the run keeps its
    record.

    Parameters
    ----------
    plots_dir : path
        Folder to write to (created if missing); files are ``STEM.FMT``.
    result : dict
        The run's record (result.json): curves, test metrics, settings.
    data : Dataset
        The run's data; ``X_*`` are in the model's (possibly standardized) space.
    predict : callable
        The trained model: inputs as the model sees them (like ``data.X_test``), float
        [N, in_dim], to its outputs [N, out_dim] (logits or values), e.g. an engine's
        ``Backend.predict``.
    spec : ModelSpec
        Its architecture.
    weights : dict of ndarray, optional
        Its ``state_dict``, for the network diagram (drawn only for models whose every
        layer has at most 8 units); None draws no diagram.
    fmt : {'png', 'svg'}
    snapshots : SnapshotRecorder, optional
        Frames kept during training (``--snapshot_every``): drawn as
        ``boundary_evolution.gif`` and ``boundary_evolution.FMT`` when it has any.

    Returns
    -------
    list of str
        The files written, relative to ``plots_dir``, e.g. ``['loss.png', 'surface.png',
        ..., 'boundary_evolution.gif', 'boundary_evolution.png']``.
    """
    plots_dir = Path(plots_dir)
    figures = run_figures(result, data, predict, spec, weights)
    written = write_figures(plots_dir, figures, fmt)
    if snapshots is not None and snapshots.frames:
        drawn = snapshots.for_drawing()
        for name, write in (
            (f"{SNAPSHOT_STEM}.gif", lambda: write_gif_file(drawn, plots_dir)),
            (f"{SNAPSHOT_STEM}.{fmt}", lambda: write_grid_file(drawn, plots_dir, fmt)),
        ):
            try:
                write()
            except Exception as err:
                _warn(f"plot {name}", err)
            else:
                written.append(name)
    return written


def write_figures(
    plots_dir: Path, figures: dict[str, Callable[[], Figure]], fmt: str = "png"
) -> list[str]:
    """Draw and save each figure as ``STEM.FMT``; return the names written.

    A figure that fails is left out with a :class:`RuntimeWarning` naming it: the others,
    and the run's record, are kept. (A diverged run draws ``{"loss": ...}`` alone.)
    """
    if fmt not in ("png", "svg"):
        raise ValueError(f"plot format must be png or svg, got {fmt!r}")
    written = []
    for stem, draw in figures.items():
        name = f"{stem}.{fmt}"
        try:
            save_figure(draw(), plots_dir / name, fmt)
        except Exception as err:
            _warn(f"plot {name}", err)
        else:
            written.append(name)
    return written


def _warn(what: str, err: Exception) -> None:
    warnings.warn(
        f"mlplab: {what} failed ({type(err).__name__}: {err}); results are kept",
        RuntimeWarning,
        stacklevel=3,
    )
