"""The snapshots of a run drawn: an animated GIF and a grid of panels.

From a :class:`~mlplab.plots.recorder.SnapshotRecorder`'s frames (see there), this
writes:

- ``boundary_evolution.gif``: one frame per snapshot (at most
  :data:`~mlplab.plots.recorder.MAX_FRAMES`, the first and last always kept), the step
  in each frame's title;
- ``boundary_evolution.png`` (or ``.svg``): up to :data:`GRID_PANELS` snapshots side by
  side, the step in each panel's title, with one colour bar.

Where a run kept more frames than that, the frames shown are spread evenly over how
much the surface changed, not over time: a boundary that settles early gets its frames
while it moves (:func:`~mlplab.plots.recorder.pick_by_change`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from mlplab.plots import surfaces
from mlplab.plots.labels import plane_names
from mlplab.plots.planes import changes_class, class_boundaries
from mlplab.plots.recorder import MAX_FRAMES, STEM, SnapshotRecorder, pick
from mlplab.plots.recorder import SNAPSHOT_GRID as SNAPSHOT_GRID  # re-exported
from mlplab.plots.recorder import pick_by_change as pick_by_change  # re-exported
from mlplab.plots.style import (
    BINARY_CMAP,
    POINT_BLUE,
    POINT_ORANGE,
    class_colorbar,
    class_colors,
    new_figure,
    save_figure,
    set_suptitle,
    set_title,
    styled,
)
from mlplab.plots.titles import class_names, target_name

__all__ = [
    "SnapshotRecorder",
    "gif_frames",
    "grid_figure",
    "pick",
    "pick_by_change",
    "write_snapshots",
]

GRID_PANELS = 12  # panels in the PNG grid
FRAME_MS = 120  # display time of one GIF frame; the last one stays 1.5 s


def write_snapshots(rec: SnapshotRecorder, plots_dir: str | Path, fmt: str = "png") -> list[str]:
    """Write ``rec``'s GIF and grid into ``plots_dir``; return their names (none if no frames).

    Draws the frames :meth:`~mlplab.plots.recorder.SnapshotRecorder.for_drawing` keeps.

    Parameters
    ----------
    plots_dir : path
        Folder to write to (created if missing).
    fmt : {'png', 'svg'}
        Format of the grid; the animation is always a GIF.
    """
    if not rec.steps:
        return []
    drawn, plots_dir = rec.for_drawing(), Path(plots_dir)
    return [write_gif_file(drawn, plots_dir), write_grid_file(drawn, plots_dir, fmt)]


def write_gif_file(rec: SnapshotRecorder, plots_dir: Path) -> str:
    """Write the animation into ``plots_dir``; return its name."""
    plots_dir.mkdir(parents=True, exist_ok=True)
    write_gif(rec, plots_dir / f"{STEM}.gif")
    return f"{STEM}.gif"


def write_grid_file(rec: SnapshotRecorder, plots_dir: Path, fmt: str = "png") -> str:
    """Write the grid of snapshots into ``plots_dir``; return its name."""
    name = f"{STEM}.{fmt}"
    save_figure(grid_figure(rec), plots_dir / name, fmt)
    return name


def _frame_image(rec: SnapshotRecorder, i: int) -> tuple[np.ndarray, dict[str, Any]]:
    """The image array and ``imshow`` keywords of snapshot ``i``."""
    f = rec.frames[i]
    if rec.info.task == "binary":
        return f, {"cmap": BINARY_CMAP, "vmin": 0.0, "vmax": 1.0}
    if rec.info.task == "multiclass":
        s = rec.surface(i)
        assert isinstance(s, surfaces.ClassSurface)
        return surfaces.class_rgba(s, class_colors(s.n_classes)), {}
    lo, hi = _value_range(rec)
    return f, {"cmap": "viridis", "vmin": lo, "vmax": hi}


def _value_range(rec: SnapshotRecorder) -> tuple[float, float]:
    """Regression: the colour scale, the drawn points' true y (the data's range).

    A frame far off the data (the untrained model, or extrapolation in a corner) takes
    the end colours, rather than squeezing the data's range into one colour. Files
    written before the points' y were kept fall back to the last frame's range.
    """
    y = rec.points_y
    if len(y) and np.ptp(y) > 0:
        return float(np.min(y)), float(np.max(y))
    last = rec.frames[-1]
    lo, hi = float(np.min(last)), float(np.max(last))
    if lo == hi:
        lo, hi = lo - 0.5, hi + 0.5
    return lo, hi


def _colorbar(fig: Figure, rec: SnapshotRecorder, image: Any, **where: Any) -> None:
    """The colour bar of the frames: P(class 1), the classes, or the predicted value."""
    info = rec.info
    # Names shortened as the surface plot's colour bar has them.
    if info.task == "multiclass":
        class_colorbar(fig, class_names(info, max(2, len(info.class_names or []))), **where)
        return
    if info.task == "binary":
        fig.colorbar(image, label=f"P({class_names(info, 2)[1]})", **where)
        return
    lo, hi = _value_range(rec)
    below = min(float(np.min(x)) for x in rec.frames) < lo
    above = max(float(np.max(x)) for x in rec.frames) > hi
    extend = {(True, True): "both", (True, False): "min", (False, True): "max"}.get(
        (below, above), "neither"
    )
    fig.colorbar(image, label=f"predicted {target_name(info, 0)}", extend=extend, **where)


def _draw_points(ax: Any, rec: SnapshotRecorder) -> None:
    """The training points (at most 500), coloured by class or by y."""
    X, cls = rec.points_X, rec.points_class
    size = float(np.clip(2000.0 / max(len(X), 1), 6.0, 90.0))
    if cls is None:
        ax.scatter(X[:, 0], X[:, 1], c="k", s=size / 3, alpha=0.4)
        return
    if rec.info.task == "binary":
        colors = [POINT_BLUE, POINT_ORANGE]
    else:
        colors = class_colors(int(cls.max()) + 1)
    ax.scatter(
        X[:, 0],
        X[:, 1],
        c=np.asarray(colors, dtype=object)[cls].tolist(),
        s=size,
        edgecolors="w",
        linewidths=0.6,
    )


def _boundary(ax: Any, rec: SnapshotRecorder, i: int) -> list[Any]:
    """A frame's decision boundaries, as the surface plot draws them: where the shading is
    faint (a model near chance everywhere), the lines still show the split. Binary: P = 0.5;
    multiclass: each class's margin at 0 (:func:`~mlplab.plots.planes.class_boundaries`).
    No lines where the frame has none (a constant model, even to float noise)."""
    if rec.info.task == "multiclass":
        s = rec.surface(i)
        assert isinstance(s, surfaces.ClassSurface)
        return class_boundaries(ax, s)
    p1 = rec.frames[i]
    if rec.info.task != "binary" or not changes_class(p1):
        return []
    assert rec.grid is not None
    return [ax.contour(rec.grid.xx, rec.grid.yy, p1, levels=[0.5], colors="k", linewidths=1.2)]


def _panel(ax: Any, rec: SnapshotRecorder, i: int) -> tuple[Any, list[Any]]:
    """Frame ``i`` on ``ax``: its image and its boundary lines."""
    assert rec.grid is not None
    img, kw = _frame_image(rec, i)
    im = ax.imshow(img, origin="lower", extent=rec.grid.extent, aspect="auto", **kw)
    line = _boundary(ax, rec, i)
    _draw_points(ax, rec)
    ax.set_xlim(*rec.grid.extent[:2])
    ax.set_ylim(*rec.grid.extent[2:])
    return im, line


@styled
def grid_figure(rec: SnapshotRecorder) -> Figure:
    """Up to :data:`GRID_PANELS` snapshots in a grid, ``step N`` over each, one colour bar.

    The snapshots are chosen where the surface changes
    (:meth:`~mlplab.plots.recorder.SnapshotRecorder.pick_frames`), first and last kept.
    """
    chosen = rec.pick_frames(GRID_PANELS)
    cols = min(4, len(chosen))
    rows = -(-len(chosen) // cols)
    fig = new_figure(3.1 * cols + 1.4, 3.0 * rows + 0.8, layout="constrained")
    axes = np.atleast_1d(fig.subplots(rows, cols, squeeze=False).ravel())
    feats = plane_names(rec.info)
    image = None
    for ax, i in zip(axes, chosen):
        image, _ = _panel(ax, rec, i)
        set_title(ax, rec.moment(i))
        ax.tick_params(labelsize=10)
    for ax in axes[len(chosen) :]:
        ax.set_visible(False)
    for ax in axes[::cols]:
        ax.set_ylabel(feats[1])
    for ax in axes[(rows - 1) * cols :]:
        ax.set_xlabel(feats[0])
    _colorbar(fig, rec, image, ax=axes.tolist(), shrink=0.9, aspect=30)
    what = "predicted value" if rec.info.task == "regression" else "decision surface"
    how = " (the steps where it changed most)" if len(chosen) < len(rec.steps) else ""
    set_suptitle(fig, f"{rec.title()}: {what} during training{how}; points: training rows")
    return fig


@styled
def gif_frames(rec: SnapshotRecorder, max_frames: int = MAX_FRAMES) -> list[np.ndarray]:
    """The GIF's frames, uint8 [H, W, 3] each: one figure, its surface and title updated.

    The frames are chosen where the surface changes, as for the grid.
    """
    fig = new_figure(6.0, 4.6)
    ax = fig.add_axes((0.12, 0.12, 0.66, 0.74))
    cax = fig.add_axes((0.81, 0.12, 0.03, 0.74))
    chosen = rec.pick_frames(max_frames)
    im, lines = _panel(ax, rec, chosen[0])
    _colorbar(fig, rec, im, cax=cax)
    feats = plane_names(rec.info)
    ax.set_xlabel(feats[0])
    ax.set_ylabel(feats[1])
    title = set_title(ax, rec.title())
    _widen_to_fit(fig)
    canvas = fig.canvas
    assert isinstance(canvas, FigureCanvasAgg)
    out = []
    for i in chosen:
        im.set_data(_frame_image(rec, i)[0])
        if i != chosen[0]:  # the first frame's lines are _panel's
            for line in lines:
                line.remove()
            lines = _boundary(ax, rec, i)
        title.set_text(f"{rec.title()}\n{rec.moment(i)}")
        canvas.draw()
        out.append(np.asarray(canvas.buffer_rgba())[..., :3].copy())
    return out


def _widen_to_fit(fig: Figure) -> None:
    """Widen ``fig`` by what its axes (the colour bar's class names and label) need past
    its right edge, each axes keeping its size and place in inches: at 6 inches the
    names were cut to their first 11 characters, and the bar's label was off the frame."""
    fig.canvas.draw()
    width, height = fig.get_size_inches()
    over = fig.get_tightbbox().x1 - width  # inches
    if over <= 0:
        return
    scale = width / (width + over + 0.1)
    for ax in fig.axes:
        x0, y0, w, h = ax.get_position().bounds
        ax.set_position((x0 * scale, y0, w * scale, h))
    fig.set_size_inches(width + over + 0.1, height)


def write_gif(rec: SnapshotRecorder, path: Path) -> None:
    """Write the animation with Pillow: every frame on one shared palette, looping."""
    from PIL import Image

    frames = [Image.fromarray(a) for a in gif_frames(rec)]
    # One adaptive palette from the last (most detailed) frame for all frames: colours stay
    # put between frames instead of flickering as per-frame palettes would.
    palette = frames[-1].quantize(colors=255, method=Image.Quantize.MEDIANCUT)
    frames = [f.quantize(palette=palette, dither=Image.Dither.NONE) for f in frames]
    durations = [FRAME_MS] * (len(frames) - 1) + [1500]
    frames[0].save(
        path,
        save_all=True,
        append_images=frames[1:],
        duration=durations,
        loop=0,
        optimize=False,
        disposal=1,
    )
