"""The plots of one run, drawn from its record and its trained model.

:func:`draw_run_plots` is what ``train`` calls at the end of a finished run and what
``mlplab plot RUN_DIR`` calls on a rebuilt model. It writes, into the run's ``plots/``:

- ``loss``: train and validation loss against epoch (log scale when the loss spans
  more than :data:`LOG_SPAN`), next to accuracy or MAE;
- ``surface`` (2-feature data): the decision surface (classification) or the predicted
  surface (regression), with the data on top and mistakes marked;
- ``regression_3d`` (2-feature regression): true and predicted test y as 3-D scatters,
  and the model's surface;
- ``confusion`` (classification) or ``pred_vs_true`` (regression), on the test split;
- ``network`` when every layer has at most 8 units.

Drawing comes in two steps. :func:`mlplab.plots.inputs.plot_inputs` takes from the
trained model every number the plots show (no matplotlib); :func:`figures` and
:func:`write_plots` draw from those numbers alone (no model, no engine), so the drawing
can run in another process (:mod:`mlplab.plots.worker`). Each plot also has a
``*_figure`` function that takes the data and the model and returns the
:class:`~matplotlib.figure.Figure`, so that tests and notebooks can read the artists
(titles, limits, image arrays) behind the files. :func:`run_figures` builds them all.
"""

from __future__ import annotations

from collections.abc import Hashable
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.cm import ScalarMappable
from matplotlib.colors import BoundaryNorm, Normalize
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import FuncFormatter, MaxNLocator, NullLocator

from mlplab.data.dataset import Dataset
from mlplab.engines.spec import LOSS_OF_TASK, ModelSpec
from mlplab.plots import network, surfaces
from mlplab.plots.inputs import MAX_POINTS as MAX_POINTS  # re-exported
from mlplab.plots.inputs import (
    DataInfo,
    Model,
    PlotInputs,
    PointSet,
    confusion_of_test,
    every,
    plot_inputs,
    plot_stems,
    split_points,
    surface_points,
)
from mlplab.plots.inputs import confusion_counts as confusion_counts  # re-exported
from mlplab.plots.layered import TwoLayerPlot
from mlplab.plots.style import (
    BINARY_CMAP,
    POINT_BLUE,
    POINT_ORANGE,
    SERIES,
    WRONG,
    class_cmap,
    class_colors,
    decimate,
    display_name,
    model_label,
    new_figure,
    save_figure,
    set_title,
    styled,
)
from mlplab.training.metrics import predicted_classes, true_classes

LOG_SPAN = 100.0  # draw the loss on a log axis when max/min exceeds this (XOR's does)
MAX_TARGETS = 4  # regression targets drawn side by side in pred_vs_true

DataLike = Dataset | DataInfo  # the label helpers read only names and the task


# --- labels -----------------------------------------------------------------------------------
def metric_text(result: dict[str, Any], task: str) -> str:
    """The test metric for titles, e.g. ``test acc 1.000`` or ``test MAE 0.412, R² 0.93``."""
    if task == "regression":
        parts = []
        if result.get("test_mae") is not None:
            parts.append(f"test MAE {result['test_mae']:.4g}")
        if result.get("test_r2") is not None:
            parts.append(f"R² {result['test_r2']:.3f}")
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


def plane_names(data: DataLike) -> tuple[str, str]:
    """Names of the two features of planar data (``x1``, ``x2`` if the data has none)."""
    names = [*data.feature_names, "x1", "x2"]
    return names[0], names[1]


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


class LossPlot(TwoLayerPlot):
    """Train and val loss beside accuracy or MAE (train, val), against epoch.

    Built from what is known before training (the task, the planned epochs); the
    curves, the axes' ranges and the test metric come from :meth:`set_result`. The
    ranges follow rules that rarely change as training goes on (see
    :func:`curve_limits`), so a background drawn mid-run usually still fits at the end.
    """

    def __init__(self, data: DataLike, result: dict[str, Any], spec: ModelSpec | None) -> None:
        self.task = task = data.task
        fig = self.fig = new_figure(10.5, 4.2)
        self.ax_loss, self.ax_metric = axes = fig.subplots(1, 2)
        fig.subplots_adjust(left=0.075, right=0.985, bottom=0.14, top=0.8, wspace=0.25)
        loss_name = LOSS_OF_TASK.get(task, "loss")
        self.ax_loss.set(xlabel="epoch", ylabel=f"{loss_name} loss")
        set_title(self.ax_loss, f"loss ({loss_name})")
        self.key, name = ("mae", "MAE") if task == "regression" else ("acc", "accuracy")
        self.ax_metric.set(xlabel="epoch", ylabel=name)
        set_title(self.ax_metric, name)
        self.lines = {
            (i, split): ax.plot([], [], color=SERIES[split], lw=1.6, label=split)[0]
            for i, ax in enumerate(axes)
            for split in ("train", "val")
        }
        self.head = title_head(data, result, spec)
        self.title = fig.suptitle(self.head)

    def update(self, inputs: PlotInputs) -> None:
        self.set_result(inputs.result)

    def set_result(self, result: dict[str, Any]) -> LossPlot:
        """Draw the record's curves (see :func:`loss_figure`); returns self."""
        val_epochs = np.asarray(result.get("val_epochs") or [], dtype=np.float64)

        def curve(name: str) -> np.ndarray:
            return np.asarray(result.get(name) or [], dtype=np.float64)

        train, val = curve("train_losses"), curve("val_losses")
        m_train, m_val = curve(f"train_{self.key}s"), curve(f"val_{self.key}s")
        series = {
            (0, "train"): (train_loss_epochs(result), train),
            (0, "val"): (val_epochs[: len(val)], val),
            (1, "train"): (val_epochs[: len(m_train)], m_train),
            (1, "val"): (val_epochs[: len(m_val)], m_val),
        }
        # The planned epochs: an x range fixed while the run trains. A run that ended
        # early (patience, Ctrl-C, divergence) is drawn over the epochs it ran.
        ended_early = bool(result.get("stopped_early")) or result.get("status") in (
            "interrupted",
            "diverged",
        )
        last = 0.0 if ended_early else float(result.get("epoch") or 0)
        for key, (x, y) in series.items():
            idx = decimate(len(y))
            self.lines[key].set_data(x[idx], y[idx])
            if len(y):
                last = max(last, float(x[idx].max()))
        last = last or 1.0
        for ax in (self.ax_loss, self.ax_metric):
            ax.set_xlim(-0.03 * last, 1.03 * last)
        _set_curve_axis(self.ax_loss, np.concatenate([train, val]))
        if self.task == "regression":
            _set_curve_axis(self.ax_metric, np.concatenate([m_train, m_val]))
        else:
            self.ax_metric.set_ylim(-0.03, 1.03)  # accuracy: always the whole 0-1 range
        for i, ax in enumerate((self.ax_loss, self.ax_metric)):
            drawn = [
                line for (j, _), line in self.lines.items() if j == i and len(line.get_xdata())
            ]
            if ax.get_legend() is not None:
                ax.get_legend().remove()
            if len(drawn) > 1:
                decreasing = i == 0 or self.task == "regression"
                ax.legend(loc="upper right" if decreasing else "lower right")
        self.title.set_text(f"{self.head}\n{metric_text(result, self.task)}")
        return self

    def top_layer(self) -> list[Artist]:
        layer: list[Artist] = [*self.lines.values(), self.title]
        for ax in (self.ax_loss, self.ax_metric):
            layer += _spines(ax)
            if ax.get_legend() is not None:
                layer.append(ax.get_legend())
        return layer


@styled
def loss_figure(result: dict[str, Any], data: DataLike, spec: ModelSpec | None = None) -> Figure:
    """Train and val loss beside accuracy or MAE (train, val), against epoch.

    Parameters
    ----------
    result : dict
        The run's result.json: ``train_losses`` (at each of ``val_epochs``, or per
        epoch in older records), ``val_epochs``, ``val_losses``, and
        ``train_accs``/``val_accs`` or ``train_maes``/``val_maes``.
    data : Dataset or DataInfo
        Only its name and task are read.
    """
    return LossPlot(data, result, spec).set_result(result).fig


def curve_limits(values: np.ndarray, log: bool) -> tuple[float, float]:
    """The y range of a curve axis: whole decades on a log axis, else round ticks.

    Rules rather than matplotlib's 5% margins, so that the range stays put while
    training adds points inside it (what lets a plot be drawn before the run ends).
    """
    v = values[np.isfinite(values)]
    if log:
        v = v[v > 0]
    if not v.size:
        return (0.0, 1.0)
    lo, hi = float(v.min()), float(v.max())
    if log:
        a, b = np.floor(np.log10(lo)), np.ceil(np.log10(hi))
        return (float(10.0**a), float(10.0 ** max(b, a + 1)))
    if lo == hi:
        lo, hi = lo - (abs(lo) or 1.0) * 0.05, hi + (abs(hi) or 1.0) * 0.05
    ticks = MaxNLocator(nbins=6, steps=[1, 2, 2.5, 5, 10]).tick_values(lo, hi)
    lo, hi = float(ticks[0]), float(ticks[-1])
    pad = 0.02 * (hi - lo)
    return (lo - pad, hi + pad)


def _set_curve_axis(ax: Axes, values: np.ndarray) -> None:
    log = use_log_scale(values)
    if log:
        set_log_y(ax)
    elif ax.get_yscale() != "linear":
        ax.set_yscale("linear")
    ax.set_ylim(*curve_limits(values, log))


def _spines(ax: Axes) -> list[Artist]:
    """The visible spines: drawn over whatever the axes holds."""
    return [s for s in ax.spines.values() if s.get_visible()]


def set_log_y(ax: Axes) -> None:
    """A log y axis labelled ``0.001``, ``0.01``, ... with no minor ticks.

    matplotlib's default labels (``10^{-3}``) go through mathtext, whose parser alone
    costs more than drawing the rest of the figure; minor ticks are a dozen more
    artists each. Plain decades read just as well.
    """
    ax.set_yscale("log")
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:g}"))
    ax.yaxis.set_minor_locator(NullLocator())


# --- 2-D surfaces -------------------------------------------------------------------------------
def decision_surface_figure(
    surface: surfaces.ClassSurface,
    data: Dataset,
    backend: Model,
    result: dict[str, Any],
    spec: ModelSpec | None = None,
) -> Figure:
    """The decision surface of a classifier on 2-feature data.

    Binary: a heatmap of P(class 1) with the 0.5 contour. Multiclass: each region in
    its class colour, faded where the model is unsure, with the argmax boundaries.
    Train and test points on top, coloured by their true class; points the model gets
    wrong carry a red x.
    """
    points = surface_points(data, backend)
    return draw_decision_surface(surface, points, DataInfo.of(data), result, spec)


class DecisionSurfacePlot(TwoLayerPlot):
    """The decision surface of a classifier on a plane (see :func:`decision_surface_figure`).

    Built from the grid and the points (their true classes); the surface, the
    boundary, the marks on mistakes and the test metric come from :meth:`set_model`.
    """

    def __init__(
        self,
        grid: surfaces.Grid,
        task: str,
        n_classes: int,
        points: list[PointSet],
        data: DataLike,
        result: dict[str, Any],
        spec: ModelSpec | None,
    ) -> None:
        fig = self.fig = new_figure(6.6, 5.4)
        ax = self.ax = fig.add_axes((0.12, 0.11, 0.66, 0.73))
        cax = fig.add_axes((0.82, 0.11, 0.035, 0.73))
        self.grid, self.task, self.data = grid, task, data
        extent = grid.extent
        names = _class_names(data, n_classes)
        blank = np.zeros(grid.xx.shape)
        if task == "binary":
            self.image = ax.imshow(
                blank,
                origin="lower",
                extent=extent,
                cmap=BINARY_CMAP,
                vmin=0,
                vmax=1,
                aspect="auto",
            )
            fig.colorbar(self.image, cax=cax, label=f"P({names[1]})")
            self.colors = [POINT_BLUE, POINT_ORANGE]
        else:
            self.colors = class_colors(n_classes)
            self.image = ax.imshow(
                np.zeros((*grid.xx.shape, 4)), origin="lower", extent=extent, aspect="auto"
            )
            mappable = ScalarMappable(
                norm=BoundaryNorm(np.arange(n_classes + 1) - 0.5, n_classes),
                cmap=class_cmap(n_classes),
            )
            cb = fig.colorbar(mappable, cax=cax, label="predicted class (faded: unsure)")
            cb.set_ticks(list(range(n_classes)), labels=names)
        self.boundary: Any = None  # the contour, made by set_model
        self.marks: list[Any] = []  # per point set: (points, their mistakes)
        for pts in points:
            X, true = pts.X, true_classes(data.task, pts.y)
            small = len(X) <= 200
            dots = ax.scatter(
                X[:, 0],
                X[:, 1],
                c=np.asarray(self.colors, dtype=object)[true].tolist(),
                marker=pts.marker,
                s=_size(len(X)),
                edgecolors="w",
                linewidths=1.0 if small else 0.3,
                zorder=3,
            )
            wrong = ax.scatter(
                np.empty(0),
                np.empty(0),
                marker="x",
                c=WRONG,
                s=_size(len(X)) * 1.5 + 10,
                linewidths=2 if small else 1.2,
                zorder=4,
            )
            self.marks.append((dots, wrong))
        _set_plane(ax, data, extent)
        self.head = title_head(data, result, spec)
        self.title = set_title(ax, self.head)

    def update(self, inputs: PlotInputs) -> None:
        assert isinstance(inputs.surface, surfaces.ClassSurface)
        self.set_model(inputs.surface, inputs.points, inputs.result)

    def set_model(
        self, surface: surfaces.ClassSurface, points: list[PointSet], result: dict[str, Any]
    ) -> DecisionSurfacePlot:
        """Show the model's surface and its decisions on ``points``; returns self."""
        ax, grid = self.ax, self.grid
        if self.boundary is not None:
            self.boundary.remove()
            self.boundary = None
        if self.task == "binary":
            p1 = surface.probs[..., 1]
            self.image.set_data(p1)
            if p1.min() < 0.5 < p1.max():  # no boundary to draw when the model is constant
                self.boundary = ax.contour(
                    grid.xx, grid.yy, p1, levels=[0.5], colors="k", linewidths=1.5
                )
        else:
            self.image.set_data(surfaces.class_rgba(surface, self.colors))
            present = np.unique(surface.classes)
            if len(present) > 1:
                levels = np.arange(present.min(), present.max()) + 0.5
                self.boundary = ax.contour(
                    grid.xx, grid.yy, surface.classes, levels=levels, colors="k", linewidths=1
                )
        handles = []
        n_wrong = 0
        for pts, (_, marks) in zip(points, self.marks):
            wrong = predicted_classes(self.task, pts.out) != true_classes(self.task, pts.y)
            marks.set_offsets(pts.X[wrong, :2])
            n_wrong += int(wrong.sum())
            handles.append(_marker_handle(pts.marker, pts.label))
        if n_wrong:
            handles.append(
                Line2D(
                    [],
                    [],
                    ls="",
                    marker="x",
                    color=WRONG,
                    mew=2,
                    ms=8,
                    label=f"misclassified ({n_wrong})",
                )
            )
        if (legend := ax.get_legend()) is not None:
            legend.remove()
        if len(handles) > 1:
            ax.legend(handles=handles, loc="upper right", fontsize=10)
        self.title.set_text(
            f"{self.head}\ndecision surface · {metric_text(result, self.data.task)}"
        )
        return self

    def top_layer(self) -> list[Artist]:
        layer: list[Artist] = [self.image, self.title, *_spines(self.ax)]
        for dots, marks in self.marks:
            layer += [dots, marks]
        if self.boundary is not None:
            layer.append(self.boundary)
        if (legend := self.ax.get_legend()) is not None:
            layer.append(legend)
        return layer


@styled
def draw_decision_surface(
    surface: surfaces.ClassSurface,
    points: list[PointSet],
    data: DataLike,
    result: dict[str, Any],
    spec: ModelSpec | None = None,
) -> Figure:
    """:func:`decision_surface_figure` from the model's numbers (the drawing step)."""
    n_classes = surface.probs.shape[-1]
    plot = DecisionSurfacePlot(surface.grid, surface.task, n_classes, points, data, result, spec)
    return plot.set_model(surface, points, result).fig


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


def _test_column(data: Dataset, t: int) -> tuple[np.ndarray, np.ndarray]:
    """Test points drawn on a regression plane: raw X and y of target ``t``."""
    idx = every(len(data.X_test))
    return surfaces.raw_inputs(data, data.X_test[idx]), data.y_test[idx, t]


def regression_surface_figure(
    surface: surfaces.RegressionSurface,
    data: Dataset,
    result: dict[str, Any],
    spec: ModelSpec | None = None,
) -> Figure:
    """The predicted surface of a regressor on 2-feature data, test points on top.

    The points are coloured by their true y on the same colour scale, so a point that
    stands out from the surface around it is one the model gets wrong.
    """
    X, y = _test_column(data, surface.target)
    y_all = data.y_test[:, surface.target]
    y_range = (float(y_all.min()), float(y_all.max())) if len(y_all) else None
    return draw_regression_surface(surface, X, y, y_range, DataInfo.of(data), result, spec)


@styled
def draw_regression_surface(
    surface: surfaces.RegressionSurface,
    X: np.ndarray,
    y: np.ndarray,
    y_range: tuple[float, float] | None,
    data: DataLike,
    result: dict[str, Any],
    spec: ModelSpec | None = None,
) -> Figure:
    """:func:`regression_surface_figure` from the numbers: test ``X`` (raw), ``y``, and
    the range of the whole test split's y (the colour scale covers it)."""
    fig = new_figure(6.6, 5.4)
    ax = fig.add_axes((0.12, 0.11, 0.66, 0.73))
    cax = fig.add_axes((0.82, 0.11, 0.035, 0.73))
    lo, hi = float(surface.values.min()), float(surface.values.max())
    if y_range is not None:
        lo, hi = min(lo, y_range[0]), max(hi, y_range[1])
    norm = Normalize(lo, hi)
    extent = surface.grid.extent
    im = ax.imshow(
        surface.values, origin="lower", extent=extent, cmap="viridis", norm=norm, aspect="auto"
    )
    target = _target_name(data, surface.target)
    fig.colorbar(im, cax=cax, label=f"predicted {target}")
    if np.ptp(surface.values) > 0:
        ax.contour(
            surface.grid.xx,
            surface.grid.yy,
            surface.values,
            levels=8,
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
        label="test (colour: true y)",
    )
    _set_plane(ax, data, extent)
    set_title(
        ax,
        f"{title_head(data, result, spec)}\npredicted {target} · {metric_text(result, 'regression')}",
    )
    return fig


def regression_3d_figure(
    surface: surfaces.RegressionSurface,
    data: Dataset,
    backend: Model,
    result: dict[str, Any],
    spec: ModelSpec | None = None,
    surface_points: int = 40,
) -> Figure:
    """True test y, predicted test y (3-D scatters) and the model's surface (3-D).

    The lab's own view of regression on a plane. The 3-D surface uses every
    ``G // surface_points``-th grid point: a mesh finer than ~40 x 40 draws slowly and
    shows nothing more at this size.
    """
    test = split_points(data, backend)[1]
    return draw_regression_3d(surface, test, DataInfo.of(data), result, spec, surface_points)


@styled
def draw_regression_3d(
    surface: surfaces.RegressionSurface,
    test: PointSet,
    data: DataLike,
    result: dict[str, Any],
    spec: ModelSpec | None = None,
    surface_points: int = 40,
) -> Figure:
    """:func:`regression_3d_figure` from the numbers: the test points and outputs."""
    fig = new_figure(15.0, 5.2)
    t = surface.target
    X = test.X
    y_true = np.asarray(test.y[:, t], dtype=np.float64)
    y_pred = test.out[:, t]
    lo = float(min(y_true.min(), y_pred.min(), surface.values.min()))
    hi = float(max(y_true.max(), y_pred.max(), surface.values.max()))
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
    ax.plot_surface(
        surface.grid.xx[sl],
        surface.grid.yy[sl],
        surface.values[sl],
        cmap="viridis",
        norm=norm,
        linewidth=0,
        antialiased=False,
    )
    _axes_3d(ax, feats, target, "model surface", lo, hi)
    fig.subplots_adjust(left=0.0, right=0.97, bottom=0.04, top=0.86, wspace=0.05)
    fig.colorbar(
        ScalarMappable(norm=norm, cmap="viridis"), ax=fig.axes, shrink=0.7, pad=0.02, label=target
    )
    fig.suptitle(f"{title_head(data, result, spec)}\n{metric_text(result, 'regression')}")
    return fig


def _axes_3d(
    ax: Any, feats: tuple[str, str], target: str, title: str, lo: float, hi: float
) -> None:
    ax.set_xlabel(feats[0])
    ax.set_ylabel(feats[1])
    ax.set_zlabel(target)
    ax.set_zlim(lo, hi)
    set_title(ax, title)


# --- any dataset --------------------------------------------------------------------------------
def confusion_figure(
    data: Dataset, backend: Model, result: dict[str, Any], spec: ModelSpec | None = None
) -> Figure:
    """The confusion matrix of the test split: rows true class, columns predicted class."""
    return draw_confusion(confusion_of_test(data, backend), DataInfo.of(data), result, spec)


class ConfusionPlot(TwoLayerPlot):
    """The confusion matrix of the test split (see :func:`confusion_figure`).

    The colour scale runs from 0 to the largest class's count, which the split alone
    fixes: a class the model gets all right fills its cell. The counts and the test
    metric come from :meth:`set_counts`.
    """

    def __init__(
        self,
        class_sizes: np.ndarray,
        data: DataLike,
        result: dict[str, Any],
        spec: ModelSpec | None,
    ) -> None:
        n = self.n = len(class_sizes)
        self.data = data
        names = _class_names(data, n)
        side = float(np.clip(2.2 + 0.55 * n, 5.0, 9.5))
        fig = self.fig = new_figure(side + 1.2, side)
        ax = self.ax = fig.add_axes((0.2, 0.16, 0.6, 0.66))
        cax = fig.add_axes((0.84, 0.16, 0.03, 0.66))
        self.vmax = max(1, int(np.max(class_sizes)))
        self.image = ax.imshow(
            np.zeros((n, n)), cmap="Blues", vmin=0, vmax=self.vmax, aspect="auto"
        )
        cb = fig.colorbar(self.image, cax=cax, label="count")
        # Counts are whole numbers: no 0.2-steps on a scale of 0 to 1 (and fewer ticks to
        # draw). Otherwise matplotlib's default spacing (its AutoLocator's steps).
        cb.locator = MaxNLocator(nbins="auto", steps=[1, 2, 2.5, 5, 10], integer=True)
        self.counts = []
        if n <= 20:
            self.counts = [
                ax.text(j, i, "", ha="center", va="center", fontsize=10)
                for i in range(n)
                for j in range(n)
            ]
        ticks = np.arange(n)
        ax.set_xticks(
            ticks, labels=names, rotation=45 if n > 4 else 0, ha="right" if n > 4 else "center"
        )
        ax.set_yticks(ticks, labels=names)
        ax.set_xlabel("predicted class")
        ax.set_ylabel("true class")
        split = "train = val = test" if data.shared_splits else "test"
        self.head = f"{title_head(data, result, spec)}\nconfusion matrix ({split})"
        self.title = set_title(ax, self.head)

    def update(self, inputs: PlotInputs) -> None:
        assert inputs.confusion is not None
        self.set_counts(inputs.confusion, inputs.result)

    def set_counts(self, cm: np.ndarray, result: dict[str, Any]) -> ConfusionPlot:
        """Show the counts ``cm`` [n, n] (rows true, columns predicted); returns self."""
        self.image.set_data(cm)
        half = self.vmax / 2.0
        for text, c in zip(self.counts, cm.ravel()):
            text.set_text(str(c))
            text.set_color("white" if c > half else "black")
        self.title.set_text(f"{self.head} · {metric_text(result, self.data.task)}")
        return self

    def top_layer(self) -> list[Artist]:
        return [self.image, *self.counts, self.title, *_spines(self.ax)]

    def layout(self) -> Hashable:
        return (self.n, self.vmax)


@styled
def draw_confusion(
    cm: np.ndarray, data: DataLike, result: dict[str, Any], spec: ModelSpec | None = None
) -> Figure:
    """:func:`confusion_figure` from the counts ``cm`` [n, n]."""
    return ConfusionPlot(cm.sum(axis=1), data, result, spec).set_counts(cm, result).fig


def pred_vs_true_figure(
    data: Dataset, backend: Model, result: dict[str, Any], spec: ModelSpec | None = None
) -> Figure:
    """Predicted against true y for train and test, per target, with the line y = x."""
    return draw_pred_vs_true(split_points(data, backend), DataInfo.of(data), result, spec)


@styled
def draw_pred_vs_true(
    points: list[PointSet], data: DataLike, result: dict[str, Any], spec: ModelSpec | None = None
) -> Figure:
    """:func:`pred_vs_true_figure` from the train and test points and outputs."""
    n_t = min(points[0].y.shape[1], MAX_TARGETS)
    fig = new_figure(4.8 * n_t + 0.6, 5.0)
    axes = np.atleast_1d(fig.subplots(1, n_t, squeeze=False)[0])
    fig.subplots_adjust(left=0.1 / n_t + 0.04, right=0.97, bottom=0.12, top=0.8, wspace=0.3)
    for t, ax in enumerate(axes):
        lo, hi = np.inf, -np.inf
        for pts in points:
            y, pred = pts.y[:, t], pts.out[:, t]
            ax.scatter(
                y,
                pred,
                s=_size(len(y)) / 2,
                alpha=0.5 if pts.label == "train" else 0.8,
                color=SERIES[pts.label],
                label=pts.label,
                edgecolors="none",
            )
            lo = min(lo, float(y.min()), float(pred.min()))
            hi = max(hi, float(y.max()), float(pred.max()))
        pad = 0.05 * (hi - lo or 1.0)
        ax.plot([lo - pad, hi + pad], [lo - pad, hi + pad], color="k", lw=1, ls="--", label="y = x")
        ax.set_xlim(lo - pad, hi + pad)
        ax.set_ylim(lo - pad, hi + pad)
        target = _target_name(data, t)
        ax.set(xlabel=f"true {target}", ylabel=f"predicted {target}")
        set_title(ax, target)
        ax.legend(loc="upper left")
    fig.suptitle(
        f"{title_head(data, result, spec)}\npredicted vs true · {metric_text(result, 'regression')}"
    )
    return fig


# --- all of a run's plots -----------------------------------------------------------------------
@styled
def two_layer_plot(stem: str, inputs: PlotInputs) -> TwoLayerPlot | None:
    """The plot ``stem`` built from what is known before training, or None.

    Only the plot's background is set: the model's part comes from ``update(inputs)``
    (:mod:`mlplab.plots.layered`). None for plots drawn in one go (the regression
    plots, the 3-D ones).
    """
    r, info, spec, surface = inputs.result, inputs.info, inputs.spec, inputs.surface
    if stem == "loss":
        return LossPlot(info, r, spec)
    if stem == "surface" and isinstance(surface, surfaces.ClassSurface):
        n_classes = surface.probs.shape[-1]
        return DecisionSurfacePlot(
            surface.grid, surface.task, n_classes, inputs.points, info, r, spec
        )
    if stem == "confusion" and inputs.confusion is not None:
        return ConfusionPlot(inputs.confusion.sum(axis=1), info, r, spec)
    if stem == "network" and inputs.state is not None:
        names = list(info.feature_names)
        return network.NetworkPlot(spec, names, output_names(info), model_label(r, spec))
    return None


@styled
def figure(stem: str, inputs: PlotInputs) -> Figure:
    """Draw the plot ``stem`` (one of :func:`plot_stems`) from the model's numbers."""
    plot = two_layer_plot(stem, inputs)
    if plot is not None:
        plot.update(inputs)
        return plot.fig
    r, info, spec, surface = inputs.result, inputs.info, inputs.spec, inputs.surface
    if stem == "surface" and isinstance(surface, surfaces.RegressionSurface):
        test = inputs.points[1]
        X, y = test.X, test.y[:, surface.target]
        return draw_regression_surface(surface, X, y, inputs.test_range, info, r, spec)
    if stem == "regression_3d" and isinstance(surface, surfaces.RegressionSurface):
        return draw_regression_3d(surface, inputs.points[1], info, r, spec)
    if stem == "pred_vs_true":
        return draw_pred_vs_true(inputs.points, info, r, spec)
    raise ValueError(f"no plot {stem!r} for these inputs")


def figures(inputs: PlotInputs) -> dict[str, Figure]:
    """Every plot of a run, by file stem, in the order they are written."""
    return {stem: figure(stem, inputs) for stem in plot_stems(inputs)}


def write_plots(
    plots_dir: Path, inputs: PlotInputs, fmt: str = "png", stems: list[str] | None = None
) -> list[str]:
    """Draw and write plots (default: all of :func:`plot_stems`); return the file names.

    Each figure is written as soon as it is drawn, so only one is held at a time.
    """
    written = []
    for stem in plot_stems(inputs) if stems is None else stems:
        name = f"{stem}.{fmt}"
        save_figure(figure(stem, inputs), Path(plots_dir) / name, fmt)
        written.append(name)
    return written


def run_figures(
    result: dict[str, Any], data: Dataset, backend: Model, spec: ModelSpec
) -> dict[str, Figure]:
    """Every plot of a run, by file stem, in the order they are written."""
    return figures(plot_inputs(result, data, backend, spec))


def draw_run_plots(
    plots_dir: Path,
    result: dict[str, Any],
    data: Dataset,
    backend: Model,
    spec: ModelSpec,
    fmt: str = "png",
) -> list[str]:
    """Draw a run's plots into ``plots_dir`` and return their file names.

    Parameters
    ----------
    plots_dir : Path
        Folder to write to (created if missing); files are ``STEM.FMT``.
    result : dict
        The run's record (result.json): curves, test metrics, settings.
    data : Dataset
        The run's data; ``X_*`` are in the model's (possibly standardized) space.
    backend : Backend
        The trained model.
    spec : ModelSpec
        Its architecture.
    fmt : {'png', 'svg'}

    Returns
    -------
    list of str
        File names relative to ``plots_dir``, e.g. ``['loss.png', 'surface.png', ...]``.
    """
    return write_plots(Path(plots_dir), plot_inputs(result, data, backend, spec), fmt)
