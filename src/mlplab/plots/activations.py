"""Every activation of the NumPy engine next to its derivative, one panel each.

The curves come from the engine's own table
(:data:`mlplab.engines.numpy.functional.ACTIVATIONS`, pairs ``(f, df)``), so the picture
shows exactly what the engine computes in its forward and backward passes, kinks
included (``relu'(0) = 0``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from mlplab.engines.numpy.functional import LEAKY_SLOPE
from mlplab.plots.style import (
    BLUE,
    ORANGE,
    new_figure,
    save_figure,
    set_suptitle,
    set_title,
    styled,
)

Z_RANGE = (-4.0, 4.0)
N_POINTS = 801  # odd, so that z = 0 is one of the points
COLS = 4
STEM = "activations"
# A change of f'(z) between neighbouring points larger than this is a jump, not a slope:
# the smooth derivatives change by at most about 0.01 over one step of Z_RANGE / N_POINTS.
JUMP = 0.2


def activation_curves(
    z: np.ndarray | None = None,
) -> tuple[np.ndarray, dict[str, tuple[np.ndarray, np.ndarray]]]:
    """``f(z)`` and ``f'(z)`` of every activation, from the engine's table.

    Parameters
    ----------
    z : ndarray, float64 [N], optional
        Where to evaluate (default: :data:`N_POINTS` points over :data:`Z_RANGE`).

    Returns
    -------
    z : ndarray [N]
    curves : dict
        ``{name: (f(z) [N], f'(z) [N])}`` in the table's order.
    """
    from mlplab.engines.numpy.functional import ACTIVATIONS

    if z is None:
        z = np.linspace(*Z_RANGE, N_POINTS)
    curves = {}
    for name, (f, df) in ACTIVATIONS.items():
        a = f(z)
        curves[name] = (np.asarray(a, np.float64), np.asarray(df(z, a), np.float64))
    return z, curves


@styled
def activations_figure(z: np.ndarray | None = None) -> Figure:
    """One panel per activation: ``f(z)`` (solid) and ``f'(z)`` (dashed)."""
    z, curves = activation_curves(z)
    n = len(curves)
    rows = -(-n // COLS)
    height = 2.9 * rows + 0.9
    fig = new_figure(3.3 * COLS, height)
    axes = fig.subplots(rows, COLS, squeeze=False).ravel()
    for ax, (name, (a, da)) in zip(axes, curves.items()):
        ax.axhline(0, color="0.8", lw=0.8)
        ax.axvline(0, color="0.8", lw=0.8)
        ax.plot(z, a, color=BLUE, lw=2, label="f(z)")
        # A derivative that jumps (relu's at 0) is not joined by a vertical line.
        gaps = np.flatnonzero(np.abs(np.diff(da)) > JUMP) + 1
        ax.plot(z, np.where(np.isin(np.arange(len(z)), gaps), np.nan, da),
                color=ORANGE, lw=1.8, ls="--", label="f′(z)")  # fmt: skip
        # At this scale leaky_relu's slope is invisible: its title says what tells it apart.
        set_title(ax, f"{name} (slope {LEAKY_SLOPE} for z < 0)" if name == "leaky_relu" else name)
        ax.set_xlim(*Z_RANGE)
        ax.legend(loc="upper left", fontsize=10)
    for ax in axes[n:]:
        ax.set_visible(False)
    for ax in axes[(rows - 1) * COLS :]:
        ax.set_xlabel("z")
    fig.subplots_adjust(
        left=0.05, right=0.98, bottom=0.55 / height, top=1 - 0.95 / height, hspace=0.42, wspace=0.25
    )
    set_suptitle(
        fig, "activations f(z) and their derivatives f′(z), as the numpy engine computes them"
    )
    return fig


def draw_activations(out_dir: str | Path, fmt: str = "png", name: str | None = None) -> list[str]:
    """Write ``activations.FMT`` (or ``name``) into ``out_dir``; return the file name(s)."""
    name = name or f"{STEM}.{fmt}"
    save_figure(activations_figure(), Path(out_dir) / name, fmt)
    return [name]
