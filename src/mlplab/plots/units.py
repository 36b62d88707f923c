"""Each hidden unit's output over the plane of 2-feature data: what the lecture's XOR net
builds inside.

A unit of the first hidden layer computes ``a = act(z)`` with ``z = w·x + b``, so it splits
the plane along one line, ``z = 0`` (drawn dashed), into a side where it is on and a side
where it is off. Later layers combine those regions, and the output combines the last
ones into the decision surface (``surface.png``). For the 2-2-1 XOR net, the two lines
cut off the corners ``(0, 0)`` and ``(1, 1)``.

The outputs come from the NumPy engine's own blocks (:class:`~mlplab.engines.numpy.model.MLP`,
in evaluation mode: BatchNorm's running statistics, no dropout), loaded with the run's
weights, whichever engine trained them.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from matplotlib.colors import TwoSlopeNorm
from matplotlib.figure import Figure

from mlplab.data.dataset import Dataset
from mlplab.engines.numpy.functional import ACTIVATIONS
from mlplab.engines.spec import ModelSpec
from mlplab.plots.inputs import NETWORK_MAX_UNITS
from mlplab.plots.labels import plane_names
from mlplab.plots.style import BINARY_CMAP, new_figure, styled
from mlplab.plots.surfaces import Grid, is_planar, make_grid
from mlplab.plots.titles import title_head

GRID_POINTS = 80  # per axis of each small panel: 6,400 inputs through the model
MAX_LAYERS = 4  # rows of panels; a deeper model's later layers say little more here
PANEL = 1.5  # inches, each panel's side
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
    its linear part, ``a`` its block's output (what the next layer reads)."""
    from mlplab.engines.numpy.model import MLP

    model = MLP(spec, [state], dtype="float64")
    x = grid.model_inputs
    shape = grid.xx.shape
    layers = []
    for block in model.blocks:
        z, _ = block.linear.forward(x)
        x, _ = block.forward(x, train=False)
        layers.append((z[0].T.reshape(-1, *shape), x[0].T.reshape(-1, *shape)))
    return layers


@styled
def units_figure(
    state: dict[str, np.ndarray],
    spec: ModelSpec,
    data: Dataset,
    result: dict[str, Any],
) -> Figure:
    """A panel per hidden unit (a row per layer): its output over the data's plane, white
    where ``z = 0`` (orange on, blue off, as on the surface), its ``z = 0`` line dashed,
    and the training points on top."""
    grid = make_grid(data, GRID_POINTS)
    layers = unit_outputs(state, spec, grid)
    ncols = max(a.shape[0] for _, a in layers)
    # At least 5.5 inches wide, for the title's lines over a narrow net (2-2-1).
    width = max(5.5, 0.9 + ncols * (PANEL + 0.15) + 0.9)
    fig = new_figure(width, 1.2 + len(layers) * (PANEL + 0.45))
    axes = fig.subplots(len(layers), ncols, squeeze=False)
    fig.subplots_adjust(
        left=0.9 / fig.get_figwidth(),
        right=1 - 0.9 / fig.get_figwidth(),
        top=1 - 1.05 / fig.get_figheight(),
        bottom=0.25 / fig.get_figheight(),
        wspace=0.1,
        hspace=0.35,
    )
    centre = float(ACTIVATIONS[spec.act][0](np.zeros(1))[0])  # the unit's output at z = 0
    X, y = _train_points(data)
    x_name, y_name = plane_names(data)
    for row, (z, a) in enumerate(layers):
        # One colour scale per layer, so that its units compare; white at act(0).
        low, high = float(np.nanmin(a)), float(np.nanmax(a))
        spread = max(high - centre, centre - low, 1e-9)
        norm = TwoSlopeNorm(centre, centre - spread, centre + spread)
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
            ax.scatter(X[:, 0], X[:, 1], c=y, cmap=BINARY_CMAP, vmin=0, vmax=1,
                       s=20 if len(X) <= 50 else 8, edgecolors="black", linewidths=0.5)  # fmt: skip
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_title(f"unit {col + 1}", fontsize=10, pad=3)
        axes[row][0].set_ylabel(f"hidden {row + 1}\n{spec.act}")
        bar = fig.colorbar(image, ax=list(axes[row]), fraction=0.02, pad=0.02)
        bar.ax.tick_params(labelsize=9)
    fig.suptitle(
        f"{title_head(data, result, spec)}\neach hidden unit over {x_name} × {y_name}\n"
        "orange on, blue off; dashed: z = 0",
        y=1 - 0.1 / fig.get_figheight(),
        va="top",
    )
    return fig


def _train_points(data: Dataset) -> tuple[np.ndarray, np.ndarray]:
    """Up to :data:`MAX_POINTS` training rows in the data's own units, and a colour value
    for each: its class for two classes (blue 0, orange 1), grey otherwise."""
    from mlplab.plots.surfaces import raw_inputs

    X = raw_inputs(data, data.X_train)
    y = np.asarray(data.y_train).reshape(len(X), -1)[:, 0].astype(np.float64)
    if data.task != "binary":
        y = np.full(len(X), 0.5)
    if len(X) > MAX_POINTS:
        keep = np.random.default_rng(0).choice(len(X), MAX_POINTS, replace=False)
        X, y = X[keep], y[keep]
    return X, y
