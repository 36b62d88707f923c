"""Plots over the plane of 2-feature data: the decision surface (classification), the
predicted surface (regression) and the regression's 3-D view, with the data on top.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.cm import ScalarMappable
from matplotlib.colors import Normalize
from matplotlib.contour import ContourSet
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator

from mlplab.engines.spec import ModelSpec
from mlplab.plots import surfaces
from mlplab.plots.decisions import true_classes
from mlplab.plots.inputs import (
    PointSet,
)
from mlplab.plots.labels import plane_names
from mlplab.plots.style import (
    BINARY_CMAP,
    MAX_CLASS_TICKS,
    POINT_BLUE,
    POINT_ORANGE,
    WRONG,
    class_colorbar,
    class_colors,
    new_figure,
    set_suptitle,
    set_title,
    styled,
)
from mlplab.plots.titles import (
    DataLike,
    class_names,
    metric_text,
    target_name,
    target_text,
    title_head,
)


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
    names = class_names(data, n_classes)
    if task == "binary":
        p1 = surface.p1
        image = ax.imshow(
            p1, origin="lower", extent=extent, cmap=BINARY_CMAP, vmin=0, vmax=1, aspect="auto"
        )
        fig.colorbar(image, ax=ax, label=f"P({names[1]})", fraction=0.06, pad=0.03)
        colors = [POINT_BLUE, POINT_ORANGE]
        # No boundary where the model is constant, even to float noise around 0.5; one NaN
        # (a model that broke somewhere on the grid) hides none where it is finite.
        if changes_class(p1):
            # The logit's zero, where it is kept: P's 0.5 is as right, but P is no straight
            # function of the inputs, and a steep one's crossing falls mid-cell.
            level, values = (0.0, surface.margins[0]) if surface.margins is not None else (0.5, p1)
            ax.contour(grid.xx, grid.yy, values, levels=[level], colors="k", linewidths=1.5)
    else:
        colors = class_colors(n_classes)
        ax.imshow(
            surfaces.class_rgba(surface, colors), origin="lower", extent=extent, aspect="auto"
        )
        class_colorbar(fig, names, ax=ax, fraction=0.06, pad=0.03)
        class_boundaries(ax, surface)
    class_points(fig, ax, points, data, colors, lambda pts: (pts.X[:, 0], pts.X[:, 1]))
    _set_plane(ax, data, extent)
    # The gates score the model on the 4 rows it trained on: the title says so, as the
    # confusion matrix's and the loss plot's legend do, lest "test acc" read as held out.
    what = "decision surface (train = val = test)" if data.shared_splits else "decision surface"
    set_title(ax, f"{title_head(data, result, spec)}\n{what} · {metric_text(result, task)}")
    return fig


def changes_class(p1: np.ndarray) -> bool:
    """Whether a binary surface's P(class 1) crosses 0.5 where it is finite, by more than
    float noise: where there is a boundary to draw."""
    finite = p1[np.isfinite(p1)]
    return bool(finite.size) and finite.min() < 0.5 < finite.max() and np.ptp(finite) > 1e-4


def class_boundaries(ax: Axes, surface: surfaces.ClassSurface) -> list[ContourSet]:
    """The lines between a multiclass surface's regions, where more than one class shows.

    Each present class's margin at 0 (:class:`~mlplab.plots.surfaces.ClassSurface`), the
    edge of its region: the line between two regions is both classes' zero, drawn twice
    on the same points. Without margins (past ``surfaces.MAX_MARGIN_CLASSES`` classes in
    the model, with no more than ``MAX_CLASS_TICKS`` on the grid), the contour of the
    predicted class, which steps along the grid's cells. Past ``MAX_CLASS_TICKS`` classes
    on the grid, no lines: they would cover the regions. Returns the lines drawn.
    """
    grid = surface.grid
    present = np.unique(surface.classes)
    if not 1 < len(present) <= MAX_CLASS_TICKS:
        return []
    line: dict[str, Any] = {"colors": "k", "linewidths": 1}
    if surface.margins is not None:
        return [
            ax.contour(grid.xx, grid.yy, surface.margins[k], levels=[0.0], **line) for k in present
        ]
    # Classes renumbered 0..k-1 among those present: one level between each two, however
    # far apart their indices are.
    rank = np.searchsorted(present, surface.classes)
    levels = np.arange(len(present) - 1) + 0.5
    return [ax.contour(grid.xx, grid.yy, rank, levels=levels, **line)]


def class_points(
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
    counts: list[str] = []
    few = all(len(p.X) <= 200 for p in points)  # how mistakes are marked, in every set
    for pts in points:
        (x, y), true = where(pts), true_classes(data.task, pts.y)
        ax.scatter(
            x,
            y,
            c=np.asarray(colors, dtype=object)[true].tolist(),
            marker=pts.marker,
            s=point_size(len(x)),
            edgecolors="w",
            linewidths=1.0 if len(x) <= 200 else 0.3,
            zorder=3,
        )
        wrong = pts.pred != true
        if few:  # a few points (a logic gate): a large cross over each mistake
            size = point_size(len(x)) * 1.5 + 10
            ax.scatter(x[wrong], y[wrong], marker="x", c=WRONG, s=size, linewidths=2, zorder=4)
        else:  # many: a dark rim, so the mistakes do not hide the points' own colours
            ax.scatter(
                x[wrong],
                y[wrong],
                c=np.asarray(colors, dtype=object)[true[wrong]].tolist(),
                marker=pts.marker,
                s=point_size(len(x)) * 1.6,
                edgecolors=WRONG,
                linewidths=1.1,
                zorder=4,
            )
        n_wrong += int(wrong.sum())
        counts.append(_wrong_count(int(wrong.sum()), len(x), pts.label, len(points)))
        handles.append(_marker_handle(pts.marker, pts.label))
    # One line under the axes while the labels fit their width; else the sets in a
    # column, and beside them the mistakes, a line per set.
    long = len(", ".join(counts)) + sum(len(p.label) for p in points) > LEGEND_LINE
    if n_wrong:
        # Per set: the title's accuracy is the test split's, and one count of train and
        # test mistakes together could not be matched to it.
        label = "misclassified: " + (",\n" if long else ", ").join(counts)
        if few:
            handle = Line2D([], [], ls="", marker="x", color=WRONG, mew=2, ms=8, label=label)
        else:
            handle = Line2D(
                [], [], ls="", marker="o", mfc="0.75", mec=WRONG, mew=1.5, ms=8, label=label
            )
        handles.append(handle)
    if len(handles) > 1:
        ncols = 2 if long and n_wrong else len(handles)
        fig.legend(handles=handles, loc="outside lower center", ncols=ncols, frameon=False)


LEGEND_LINE = 60  # characters of legend labels that fit in one line under a surface


def _wrong_count(wrong: int, shown: int, label: str, n_sets: int) -> str:
    """A set's mistakes among its points drawn: ``3 of 4``, ``562 of 1000 test``, or
    ``450 of the 2000 train points shown`` where the set is a sample (its label's note,
    ``train (2000 of 8000)``), which "450 train" beside that label left to guess at."""
    if n_sets == 1:
        return f"{wrong} of {shown}"
    name, _, note = label.partition(" (")
    return f"{wrong} of the {shown} {name} points shown" if note else f"{wrong} of {shown} {name}"


def _marker_handle(marker: str, label: str) -> Line2D:
    return Line2D([], [], ls="", marker=marker, mfc="0.75", mec="k", ms=8, label=label)


def point_size(n: int) -> float:
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
    target = target_name(data, t)
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
        # A colour to read against the surface's, not a position only: at the size a
        # class's point takes, 400 points were rings of their black edge.
        s=max(point_size(len(y)), 24.0),
        edgecolors="0.15",
        linewidths=0.3,
        zorder=3,
        clip_on=False,  # points on the data's edge are drawn whole
    )
    _set_plane(ax, data, extent)
    set_title(
        ax,
        f"{title_head(data, result, spec)}\npredicted {target} ({test.label} points: true {target})"
        f" · {target_text(result, by_target, t, test.y.shape[1])}{_one_of(t, test.y.shape[1])}",
    )
    return fig


def _one_of(t: int, n_targets: int) -> str:
    """Said under a plane's title where it draws one target of several: the others had
    no picture of their own and no word that they were left out."""
    return f"\ntarget {t + 1} of {n_targets}; pred_vs_true draws each" if n_targets > 1 else ""


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
    fig = new_figure(13.0, 4.4)
    t = surface.target
    X = test.X
    y_true = np.asarray(test.y[:, t], dtype=np.float64)
    y_pred = test.pred[:, t]
    lo, hi = value_range(points, t, y_range)
    norm = Normalize(lo, hi)
    target = target_name(data, t)
    feats = plane_names(data)
    # val where the run has no test split (its held-out points are the validation rows)
    panels = ((f"true {test.label} {target}", y_true), (f"predicted {test.label} {target}", y_pred))
    for i, (title, z) in enumerate(panels):
        ax: Any = fig.add_axes(_PANELS_3D[i], projection="3d")  # an Axes3D
        ax.scatter(X[:, 0], X[:, 1], z, c=z, cmap="viridis", norm=norm, s=8, depthshade=False)
        _axes_3d(ax, feats, target, title, lo, hi, surface.grid)
    ax = fig.add_axes(_PANELS_3D[2], projection="3d")
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
    _axes_3d(ax, feats, target, title, lo, hi, surface.grid)
    fig.colorbar(
        ScalarMappable(norm=norm, cmap="viridis"), cax=fig.add_axes(_COLORBAR_3D), label=target
    )
    text = target_text(result, by_target, t, test.y.shape[1]) + _one_of(t, test.y.shape[1])
    set_suptitle(fig, f"{title_head(data, result, spec)}\n{text}")
    return fig


# Where the 3-D panels and their colour bar sit (figure fractions): placed by hand, as a
# 3-D box keeps its own aspect inside whatever cell it gets, and a grid of cells with a
# stolen colour bar left 40% of the figure blank around boxes of fixed shape.
_PANELS_3D = [(0.01 + 0.295 * i, 0.0, 0.29, 0.82) for i in range(3)]
_COLORBAR_3D = (0.91, 0.13, 0.012, 0.62)


def _axes_3d(
    ax: Any,
    feats: tuple[str, str],
    target: str,
    title: str,
    lo: float,
    hi: float,
    grid: surfaces.Grid,
) -> None:
    # Every panel over the surface's plane: the test points alone spanned less of it,
    # so the three boxes had three scales side by side.
    left, right, bottom, top = grid.extent
    ax.set_xlim(left, right)
    ax.set_ylim(bottom, top)
    ax.set_xlabel(feats[0])
    ax.set_ylabel(feats[1])
    ax.set_zlabel(target)
    ax.set_zlim(lo, hi)
    ax.zaxis.set_major_locator(MaxNLocator(5))  # the box's height holds 5 labels, not 8
    # A smaller box in its panel: room for the z axis's tick labels, which would
    # otherwise run into the next panel or off the figure.
    ax.set_box_aspect(None, zoom=0.86)
    set_title(ax, title)
