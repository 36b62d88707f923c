"""Each hidden unit's output over the plane of 2-feature data: what the lecture's XOR net
builds inside.

A unit of the first hidden layer computes ``a = act(z)`` with ``z = w·x + b``, so it splits
the plane along one line, ``z = 0`` (drawn dashed), into a side where it is on and a side
where it is off. Later layers combine those regions, and the output combines the last
ones into the decision surface (``surface.png``). For the 2-2-1 XOR net, the two lines
cut off the corners ``(0, 0)`` and ``(1, 1)``.

Each panel shows the unit's own ``a = act(z)``: before the batch norm or the skip
connection that its block may add, which the next layer then reads. The colour is that
value on one scale for every activation, as the TensorFlow Playground colours its neurons:
white at 0, orange above, blue below, at least -1 to 1 (a sigmoid unit that is off is
white, a tanh unit blue). The Playground's own colours are the other way round (orange
negative); these are the surface's, where orange is class 1.

The outputs come from the NumPy engine's own layers
(:class:`~mlplab.engines.numpy.model.MLP`, in evaluation mode: BatchNorm's running
statistics, no dropout), loaded with the run's weights, whichever engine trained them.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from mlplab.data.dataset import Dataset
from mlplab.engines.numpy.functional import ACTIVATIONS
from mlplab.engines.spec import ModelSpec
from mlplab.plots.inputs import NETWORK_MAX_UNITS, every
from mlplab.plots.labels import plane_names
from mlplab.plots.style import BINARY_CMAP, STYLE, new_figure, styled, wrap_title
from mlplab.plots.surfaces import Grid, is_planar, make_grid
from mlplab.plots.titles import metric_text, title_head

GRID_POINTS = 80  # per axis of each small panel: 6,400 inputs through the model
# Rows of panels: the TensorFlow Playground's deepest network (6 hidden layers); past it
# the later layers say little more here.
MAX_LAYERS = 6
PANEL = 1.5  # inches, each panel's side
# Ticks a panel's axis: enough to read which corner is (0, 0), few enough for 1.5 inches.
TICKS = 3
TICK_SIZE = 8
MAX_POINTS = 200  # training points drawn on each panel (a sample of a larger set)


def can_draw_units(data: Dataset, spec: ModelSpec) -> bool:
    """Whether the picture has something to show and room to show it: 2-feature data, and
    1 to :data:`MAX_LAYERS` hidden layers of at most 10 units (as the network diagram)."""
    hidden = spec.widths()[1:-1]
    return (
        is_planar(data)
        and 1 <= len(hidden) <= MAX_LAYERS
        and max(hidden) <= NETWORK_MAX_UNITS
        and spec.act in ACTIVATIONS
    )


def unit_outputs(
    state: dict[str, np.ndarray], spec: ModelSpec, grid: Grid
) -> list[tuple[np.ndarray, np.ndarray]]:
    """For each hidden layer, ``(z, a)`` over ``grid``, each float64 ``[units, G, G]``: ``z``
    its linear part, ``a = act(z)`` its units' activation (before a batch norm or a skip
    connection, which the next layer's input, the block's output, includes)."""
    from mlplab.engines.numpy.model import MLP

    model = MLP(spec, [state], dtype="float64")
    shape = grid.xx.shape
    return [
        (z[0].T.reshape(-1, *shape), a[0].T.reshape(-1, *shape))
        for z, a in model.hidden_parts(grid.model_inputs)
    ]


@styled
def units_figure(
    state: dict[str, np.ndarray],
    spec: ModelSpec,
    data: Dataset,
    result: dict[str, Any],
) -> Figure:
    """A panel per hidden unit (a row per layer): its ``a = act(z)`` over the data's plane
    (white 0, orange above, blue below), its ``z = 0`` line dashed, and the training rows
    as circles."""
    grid = make_grid(data, GRID_POINTS)
    layers = unit_outputs(state, spec, grid)
    ncols = max(a.shape[0] for _, a in layers)
    # At least 6.2 inches wide, for the title's lines over a narrow net (2-2-1).
    width = max(6.2, 1.1 + ncols * (PANEL + 0.15) + 1.1)
    x_name, y_name = plane_names(data)
    before = [w for w, on in (("batch norm", spec.use_bn), ("skip", spec.sc_type != "none")) if on]
    title = wrap_title(
        f"{title_head(data, result, spec)}\n{metric_text(result, data.task)}\n"
        f"each hidden unit's a = {spec.act}(z) over {x_name} × {y_name}"
        + (f", before its block's {' and '.join(before)}" if before else "")
        + "\nwhite 0, orange > 0, blue < 0; dashed: z = 0; circles: train rows",
        width,
    )
    top = 0.35 + 0.21 * (title.count("\n") + 1)
    # Below each column's lowest panel: its ticks and the x axis's name.
    fig = new_figure(width, top + 0.6 + len(layers) * (PANEL + 0.75) - 0.3)
    axes = fig.subplots(len(layers), ncols, squeeze=False)
    fig.subplots_adjust(
        left=1.1 / fig.get_figwidth(),
        right=1 - 1.1 / fig.get_figwidth(),
        top=1 - top / fig.get_figheight(),
        bottom=0.55 / fig.get_figheight(),
        wspace=0.1,
        hspace=0.75 / PANEL,
    )
    X = _train_points(data)
    for row, (z, a) in enumerate(layers):
        # One scale a layer, so that its units compare; at least -1 to 1, so that a unit
        # that barely moves (a sigmoid's 0.4 to 0.6) looks pale, not fully on and off. Its
        # 99th percentile, not its largest value: one ReLU unit growing to 20 on a corner
        # of the plane made every other unit of its layer near white, as a dead one is.
        finite = np.abs(a[np.isfinite(a)])
        limit = max(1.0, float(np.percentile(finite, 99)) if finite.size else 0.0)
        norm = Normalize(-limit, limit)
        for col in range(ncols):
            ax = axes[row][col]
            if col >= a.shape[0]:
                ax.set_axis_off()
                continue
            image = ax.imshow(
                a[col], origin="lower", extent=grid.extent, aspect="auto", cmap=BINARY_CMAP,
                norm=norm, interpolation="bilinear",
            )  # fmt: skip
            if np.nanmin(z[col]) < 0 < np.nanmax(z[col]):
                ax.contour(grid.xx, grid.yy, z[col], levels=[0.0], colors="0.15",
                           linewidths=1.0, linestyles="dashed")  # fmt: skip
            ax.scatter(X[:, 0], X[:, 1], s=24 if len(X) <= 50 else 9, facecolors="none",
                       edgecolors="black", linewidths=0.7)  # fmt: skip
            # The plane's axes, so that its corners read (xor's (0, 0) bottom left): ticks
            # on every panel, their numbers and names on the left and lowest ones.
            lowest = row == max(r for r, (_, a_r) in enumerate(layers) if a_r.shape[0] > col)
            ax.xaxis.set_major_locator(MaxNLocator(TICKS))
            ax.yaxis.set_major_locator(MaxNLocator(TICKS))
            ax.tick_params(labelsize=TICK_SIZE, length=2.5, pad=1.5, labelbottom=lowest,
                           labelleft=col == 0)  # fmt: skip
            if lowest:
                ax.set_xlabel(x_name, fontsize=TICK_SIZE + 1, labelpad=1)
            # A ReLU that is 0 over the whole plane (dead, or alive only far off it) is white
            # as a unit of small values: said in words.
            dead = not np.any(np.abs(a[col]) > 0)
            ax.set_title(f"unit {col + 1}" + (": 0 here" if dead else ""), fontsize=10, pad=3)
        axes[row][0].set_ylabel(f"hidden {row + 1}\n{y_name}", fontsize=10)
        bar = fig.colorbar(image, ax=list(axes[row]), fraction=0.04, pad=0.02, aspect=12)
        bar.set_label("a", rotation=0, labelpad=8)
        bar.ax.tick_params(labelsize=10)
    fig.suptitle(title, y=1 - 0.12 / fig.get_figheight(), va="top",
                 fontsize=STYLE["axes.titlesize"])  # fmt: skip
    return fig


def _train_points(data: Dataset) -> np.ndarray:
    """Up to :data:`MAX_POINTS` training rows in the data's own units."""
    X = data.raw_rows("train")
    return X[every(len(X), MAX_POINTS)]
