"""A small picture of what a model predicts over the plane of 2-feature data, for the
notebook's live view: the surface a run's ``surface.png`` draws at its end, as the
TensorFlow Playground shows it during training.

:func:`live_surface` gives a function from a model (its ``predict`` on model inputs) to
an inline SVG: the surface as a small PNG (:data:`PIXELS` points a side, which the
browser smooths), the training rows over it as circles. It is drawn with the colours
and the grid of ``surface.png`` (:mod:`~mlplab.plots.surfaces`).
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Callable

import numpy as np

from mlplab.data.dataset import Dataset
from mlplab.plots.inputs import every
from mlplab.plots.style import BINARY_CMAP, POINT_BLUE, POINT_ORANGE, class_colors
from mlplab.plots.surfaces import (
    ClassSurface,
    Predict,
    class_rgba,
    is_planar,
    make_grid,
    surface_for,
)
from mlplab.training.metrics import true_classes

PIXELS = 48  # grid points a side: 2,304 predictions a redraw
SIZE = 220  # the picture's side on the page, in CSS pixels
MAX_POINTS = 200  # training rows drawn over it


def live_surface(data: Dataset) -> Callable[[Predict], str] | None:
    """A function that draws a model's surface over ``data``'s plane as an inline SVG, or
    None where the data has not 2 features (or no training rows)."""
    if not is_planar(data) or not len(data.X_train):
        return None
    grid = make_grid(data, PIXELS)
    left, right, bottom, top = grid.extent
    rows = every(len(data.X_train), MAX_POINTS)
    xy = data.raw_rows("train")[rows]
    px = (xy[:, 0] - left) / (right - left) * SIZE
    py = (top - xy[:, 1]) / (top - bottom) * SIZE
    y = data.y_train[rows]
    names = data.input_names

    def draw(predict: Predict) -> str:
        surface = surface_for(data, predict, PIXELS)
        if isinstance(surface, ClassSurface):
            if surface.task == "binary":
                rgb = BINARY_CMAP(np.nan_to_num(surface.p1, nan=0.5))[..., :3]
                colors = [POINT_BLUE, POINT_ORANGE]
            else:
                colors = class_colors(surface.n_classes)
                rgb = class_rgba(surface, colors)[..., :3]
            fill = [colors[c % len(colors)] for c in true_classes(data.task, y)]
            what = "predicted class (faded: unsure); circles: training rows by their class"
        else:
            from matplotlib import colormaps
            from matplotlib.colors import Normalize, to_hex

            assert surface is not None  # 2 features: a surface
            values = surface.values
            finite = values[np.isfinite(values)]
            norm = Normalize(*(finite.min(), finite.max()) if finite.size else (0.0, 1.0))
            cmap = colormaps["viridis"]
            rgb = cmap(norm(np.nan_to_num(values)))[..., :3]
            fill = [to_hex(cmap(norm(v))) for v in np.asarray(y, dtype=np.float64)[:, 0]]
            what = "predicted value (viridis); circles: training rows by their value"
        return _figure(rgb, px, py, fill, f"{names[0]} (→) by {names[1]} (↑); {what}")

    return draw


def _figure(rgb: np.ndarray, px: np.ndarray, py: np.ndarray, fill: list[str], caption: str) -> str:
    """The picture, ``rgb`` [G, G, 3] (row 0 at the bottom) as a PNG with circles at
    pixels ``px``, ``py``, and its caption under it."""
    from matplotlib.image import imsave

    buf = io.BytesIO()
    imsave(buf, np.clip(rgb, 0.0, 1.0), format="png", origin="lower")
    png = base64.b64encode(buf.getvalue()).decode("ascii")
    label = html.escape(f"decision surface: {caption}")
    r = 5 if len(px) <= 20 else 3  # the gates' 4 rows stand out
    dots = "".join(
        f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r}" fill="{c}" stroke="#fff" stroke-width="1"/>'
        for x, y, c in zip(px, py, fill, strict=True)
    )
    svg = (
        f'<svg class="mlplab-surface" xmlns="http://www.w3.org/2000/svg" width="{SIZE}" '
        f'height="{SIZE}" viewBox="0 0 {SIZE} {SIZE}" role="img" aria-label="{label}">'
        f"<title>{label}</title>"
        f'<image href="data:image/png;base64,{png}" width="{SIZE}" height="{SIZE}" '
        'preserveAspectRatio="none"/>'
        f'{dots}<rect width="{SIZE}" height="{SIZE}" fill="none" stroke="#ccc"/></svg>'
    )
    return (
        f'<div style="display:inline-block;vertical-align:top;width:{SIZE}px">{svg}'
        f'<div style="font-size:11px;color:#444">{html.escape(caption)}</div></div>'
    )
