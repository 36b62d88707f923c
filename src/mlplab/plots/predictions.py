"""The model's predictions against the truth: the test split's confusion matrix
(classification) or predicted against true values (regression), and, for 1-feature
data, the fitted curve or each class's probability along x.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.collections import PathCollection
from matplotlib.figure import Figure
from matplotlib.legend_handler import HandlerPathCollection
from matplotlib.ticker import MaxNLocator

from mlplab.engines.spec import ModelSpec
from mlplab.plots.decisions import true_classes
from mlplab.plots.inputs import (
    Confusion,
    PointSet,
)
from mlplab.plots.planes import class_points
from mlplab.plots.style import (
    POINT_BLUE,
    POINT_ORANGE,
    SPLIT_POINTS,
    centre_title,
    class_colors,
    ink_on,
    new_figure,
    set_suptitle,
    set_title,
    styled,
)
from mlplab.plots.titles import (
    DataLike,
    class_names,
    feature_name,
    metric_text,
    regression_text,
    scored_split,
    target_name,
    title_head,
)

MAX_TARGETS = 4  # regression targets drawn side by side in pred_vs_true and fit
MAX_FIT_CLASSES = 10  # a 1-feature classifier's probability curves: one distinct colour each
LEGEND_POINT = 64.0  # a legend's marker area (8 pt across), whatever the points' size


@styled
def confusion_figure(
    confusion: Confusion, data: DataLike, result: dict[str, Any], spec: ModelSpec | None = None
) -> Figure:
    """The confusion matrix of the test split: rows true class, columns predicted class.

    The colour scale runs from 0 to the largest class's count, so a class the model
    gets all right fills its cell. With many classes (see
    :func:`~mlplab.plots.inputs.confusion_of_test`), those with the most errors are shown,
    with a column for the others, and the title says how many of how many.
    """
    cm, shown = confusion.counts, confusion.classes
    n = len(shown)
    all_names = class_names(data, confusion.n_classes)
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
                color = ink_on(image.cmap(image.norm(np.asarray(c))))
                ax.text(j, i, str(c), ha="center", va="center", fontsize=10, color=color)
    ax.set_xticks(np.arange(len(col_names)), labels=col_names)
    ax.set_yticks(np.arange(n), labels=names)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    held = scored_split(result)  # val for a run without a test split
    split = "train = val = test" if data.shared_splits else held
    what = f"confusion matrix ({split})"
    if confusion.capped:
        kept = int(cm.sum())
        what += (
            f"\nthe {n} of {confusion.n_classes} classes with the most errors"
            f" ({kept} of {confusion.n_points} {held} points)"
        )
    title = f"{title_head(data, result, spec)} · {metric_text(result, data.task)}\n{what}"
    set_title(ax, title)
    _turn_if_crowded(ax)
    centre_title(ax)
    return fig


def _turn_if_crowded(ax: Axes) -> None:
    """Turn the x tick labels where, upright, two would run into each other, measured as
    drawn: a count of characters let two 24-character names through, run together over
    an axes that the long y tick labels had made narrow. Ten digits stay upright."""
    fig = ax.get_figure(root=True)
    assert fig is not None
    fig.draw_without_rendering()  # the layout: the axes' width, its labels' places
    boxes = [t.get_window_extent() for t in ax.get_xticklabels()]
    gap = 6 * fig.dpi / 72  # at least 6 points apart: half an em
    if any(b.x0 - a.x1 < gap for a, b in itertools.pairwise(boxes)):
        for t in ax.get_xticklabels():
            t.set(rotation=45, ha="right")


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
        y_all = np.concatenate([pts.y[:, t] for pts in points])
        pred_all = np.concatenate([pts.pred[:, t] for pts in points])
        true_lo, true_hi = float(y_all.min()), float(y_all.max())
        span = true_hi - true_lo or 1.0
        # Predictions far off the targets (a diverged model's 1e7 against targets within
        # ±3) squeezed the true values into a line: the axes reach at most one span of the
        # targets past them, and a prediction beyond sits on the edge, counted.
        finite = pred_all[np.isfinite(pred_all)]
        lo = max(true_lo - span, min(true_lo, float(finite.min()) if len(finite) else true_lo))
        hi = min(true_hi + span, max(true_hi, float(finite.max()) if len(finite) else true_hi))
        beyond = 0
        for pts in points:
            y, pred = pts.y[:, t], pts.pred[:, t]
            beyond += int(((pred < lo) | (pred > hi) | ~np.isfinite(pred)).sum())
            shown = np.clip(np.nan_to_num(pred, nan=hi), lo, hi)
            _scatter_split(ax, pts, y, shown, sum(len(p.y) for p in points))
        if beyond:
            ax.text(
                0.03, 0.97, f"{beyond} predictions beyond the axis, drawn at its edge",
                transform=ax.transAxes, va="top", fontsize=9,
                bbox={"boxstyle": "round", "facecolor": "white", "alpha": 0.8},
            )  # fmt: skip
        pad = 0.05 * (hi - lo or 1.0)
        ax.plot([lo - pad, hi + pad], [lo - pad, hi + pad], color="k", lw=1, ls="--", label="y = x")
        ax.set_xlim(lo - pad, hi + pad)
        ax.set_ylim(lo - pad, hi + pad)
        target = target_name(data, t)
        ax.set(xlabel=f"true {target}", ylabel=f"predicted {target}")
        if n_t > 1:  # one target: its axes name it, and a lone title "y" says nothing more
            set_title(ax, _panel_title(target, by_target, t, points[-1].label))
    _legend_under(fig, axes[0])
    set_suptitle(
        fig, f"{title_head(data, result, spec)}\npredicted vs true · {regression_text(result, n_t)}"
    )
    return fig


@styled
def residuals_figure(
    points: list[PointSet],
    data: DataLike,
    result: dict[str, Any],
    spec: ModelSpec | None = None,
    by_target: list[dict[str, float]] | None = None,
) -> Figure:
    """Each held-out row's residual, true - predicted, against its prediction: the test
    split's (the validation split's without one), a panel per target, with the line of
    no error. A spread that widens with the prediction (heteroscedasticity, as a skewed
    target's), a curve, or residuals on one side show what the MAE and R² average away.

    ``points`` are :func:`~mlplab.plots.inputs.split_points`' (as pred_vs_true's): the
    last is the held-out split. ``by_target``: as in :func:`pred_vs_true_figure`.
    """
    held = points[-1]
    n_t = min(held.y.shape[1], MAX_TARGETS)
    fig, axes = _target_panels(n_t)
    for t, ax in enumerate(axes):
        y, pred = held.y[:, t].astype(np.float64), held.pred[:, t]
        true_lo, true_hi = (float(y.min()), float(y.max())) if len(y) else (0.0, 1.0)
        span = true_hi - true_lo or 1.0
        # As pred_vs_true: a diverged model's predictions (1e7 for targets within ±3) are
        # drawn at the axes' edges, one span of the targets past them, and counted.
        lo, hi = true_lo - span, true_hi + span
        finite = np.isfinite(pred)
        x = np.clip(np.nan_to_num(pred, nan=hi), lo, hi)
        res = np.clip(np.where(finite, y - pred, -2 * span), -2 * span, 2 * span)
        beyond = int((~finite | (pred < lo) | (pred > hi) | (np.abs(y - pred) > 2 * span)).sum())
        _scatter_split(ax, held, x, res, len(y))
        ax.axhline(0.0, color="k", lw=1, ls="--", label="no error")
        if beyond:
            ax.text(
                0.03, 0.97, f"{beyond} points beyond the axes, drawn at their edge",
                transform=ax.transAxes, va="top", fontsize=9,
                bbox={"boxstyle": "round", "facecolor": "white", "alpha": 0.8},
            )  # fmt: skip
        target = target_name(data, t)
        ax.set(xlabel=f"predicted {target}", ylabel=f"residual: true - predicted {target}")
        if n_t > 1:
            set_title(ax, _panel_title(target, by_target, t, held.label))
    _legend_under(fig, axes[0])
    split = "train = val = test" if data.shared_splits else held.label
    set_suptitle(
        fig,
        f"{title_head(data, result, spec)}\nresiduals ({split}) · {regression_text(result, n_t)}",
    )
    return fig


def _target_panels(n: int) -> tuple[Figure, np.ndarray]:
    """A figure of ``n`` panels side by side, one per regression target."""
    fig = new_figure(4.8 * n + 0.6, 5.4, layout="constrained")
    return fig, np.atleast_1d(fig.subplots(1, n, squeeze=False)[0])


def _scatter_split(ax: Axes, pts: PointSet, x: np.ndarray, y: np.ndarray, n_all: int) -> None:
    """A split's points in its colour and marker: train faint, test clear. Their size is of
    all ``n_all`` points drawn: sized by its own count, a test split of 100 drew triangles
    of 7 times the area of 800 train points, over them."""
    ax.scatter(
        x,
        y,
        s=scatter_size(n_all),
        alpha=0.5 if pts.label == "train" else 0.8,
        color=SPLIT_POINTS[pts.label],
        marker=pts.marker,
        label=pts.label,
        edgecolors="none",
    )


def scatter_size(n: int) -> float:
    """Marker area of ``n`` points with no edge: smaller as they crowd, but 16 (4 pt across,
    6 pixels) at least; half a class point's size, 4, was a pixel on a projector."""
    return float(np.clip(16_000.0 / max(n, 1), 16.0, 140.0))


def _legend_under(fig: Figure, ax: Axes) -> None:
    """The legend of ``ax`` (the same in every panel) under the panels, hiding no point.

    Its markers are :data:`LEGEND_POINT` large and opaque: at the points' own size and
    alpha, the train marker was a faint dot beside its name.
    """
    handles, labels = ax.get_legend_handles_labels()
    fig.legend(
        handles,
        labels,
        loc="outside lower center",
        ncols=len(handles),
        frameon=False,
        handler_map={
            PathCollection: HandlerPathCollection(sizes=[LEGEND_POINT], update_func=_opaque)
        },
    )


def _opaque(legend_handle: Any, orig_handle: Any) -> None:
    """A legend marker as its points are drawn, but opaque."""
    legend_handle.update_from(orig_handle)
    legend_handle.set_alpha(1.0)


def _panel_title(
    target: str, by_target: list[dict[str, float]] | None, t: int, split: str = "test"
) -> str:
    """A target's panel title, with its own test metrics (``split``'s: val without a test
    split) where they are known."""
    if not by_target or len(by_target) < 2:
        return target
    m = by_target[t]
    return f"{target} · {split} MAE {m['mae']:.4g}, R² {m['r2']:.3f}"


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
            _scatter_split(ax, pts, pts.X[:, 0], pts.y[:, t], sum(len(p.y) for p in points))
        ax.plot(x, values[:, t], color="k", lw=1.6, label="model")
        ax.set_xlim(float(x[0]), float(x[-1]))
        target = target_name(data, t)
        ax.set(xlabel=feature_name(data), ylabel=target)
        if n_t > 1:
            set_title(ax, _panel_title(target, by_target, t, points[-1].label))
    _legend_under(fig, axes[0])
    set_suptitle(fig, f"{title_head(data, result, spec)}\nfit · {regression_text(result, n_t)}")
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
    names = class_names(data, probs.shape[1])
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
    class_points(fig, ax, points, data, colors, lambda pts: (pts.X[:, 0], rows[pts.label]))
    ax.set(xlim=(float(x[0]), float(x[-1])), xlabel=feature_name(data))
    set_title(ax, f"{title_head(data, result, spec)}\nfit · {metric_text(result, data.task)}")
    return fig
