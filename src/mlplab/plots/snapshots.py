"""The snapshots of a run drawn: an animated GIF and a grid of panels.

From a :class:`~mlplab.plots.recorder.SnapshotRecorder`'s frames (see there), this
writes:

- ``boundary_evolution.gif``: one frame per snapshot (at most
  :data:`~mlplab.plots.recorder.MAX_FRAMES`, evenly spaced, the last one always kept),
  the step in each frame's title;
- ``boundary_evolution.png`` (or ``.svg``): up to :data:`GRID_PANELS` snapshots side by
  side, the step in each panel's title.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from mlplab.plots import surfaces
from mlplab.plots.labels import plane_names
from mlplab.plots.recorder import MAX_FRAMES, STEM, SnapshotRecorder, pick
from mlplab.plots.recorder import SNAPSHOT_GRID as SNAPSHOT_GRID  # re-exported
from mlplab.plots.style import (
    BINARY_CMAP,
    POINT_BLUE,
    POINT_ORANGE,
    class_colors,
    new_figure,
    save_figure,
    set_title,
    styled,
)

__all__ = ["SnapshotRecorder", "gif_frames", "grid_figure", "pick", "write_snapshots"]

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
    if not rec.frames:
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
        return surfaces.class_rgba(s, class_colors(f.shape[-1])), {}
    lo = min(float(np.min(x)) for x in rec.frames)
    hi = max(float(np.max(x)) for x in rec.frames)
    return f, {"cmap": "viridis", "vmin": lo, "vmax": hi}


def _draw_points(ax: Any, rec: SnapshotRecorder) -> None:
    """The training points (at most 500), coloured by class or by y."""
    X, cls = rec.points_X, rec.points_class
    size = float(np.clip(2000.0 / max(len(X), 1), 6.0, 90.0))
    if cls is None:
        ax.scatter(X[:, 0], X[:, 1], c="k", s=size / 3, alpha=0.4)
        return
    colors = (
        [POINT_BLUE, POINT_ORANGE]
        if rec.info.task == "binary"
        else class_colors(int(cls.max()) + 1)
    )
    ax.scatter(
        X[:, 0],
        X[:, 1],
        c=np.asarray(colors, dtype=object)[cls].tolist(),
        s=size,
        edgecolors="w",
        linewidths=0.6,
    )


def _panel(ax: Any, rec: SnapshotRecorder, i: int) -> Any:
    assert rec.grid is not None
    img, kw = _frame_image(rec, i)
    im = ax.imshow(img, origin="lower", extent=rec.grid.extent, aspect="auto", **kw)
    _draw_points(ax, rec)
    ax.set_xlim(*rec.grid.extent[:2])
    ax.set_ylim(*rec.grid.extent[2:])
    return im


@styled
def grid_figure(rec: SnapshotRecorder) -> Figure:
    """Up to :data:`GRID_PANELS` snapshots in a grid, ``step N`` over each."""
    chosen = pick(len(rec.frames), GRID_PANELS)
    cols = min(4, len(chosen))
    rows = -(-len(chosen) // cols)
    height = 3.0 * rows + 0.8
    fig = new_figure(3.1 * cols + 0.4, height)
    axes = np.atleast_1d(fig.subplots(rows, cols, squeeze=False).ravel())
    feats = plane_names(rec.info)
    for ax, i in zip(axes, chosen):
        _panel(ax, rec, i)
        set_title(ax, f"step {rec.steps[i]}")
        ax.tick_params(labelsize=10)
    for ax in axes[len(chosen) :]:
        ax.set_visible(False)
    for ax in axes[::cols]:
        ax.set_ylabel(feats[1])
    for ax in axes[(rows - 1) * cols :]:
        ax.set_xlabel(feats[0])
    fig.subplots_adjust(
        left=0.08, right=0.98, bottom=0.5 / height, top=1 - 0.75 / height, hspace=0.45, wspace=0.3
    )
    what = "predicted value" if rec.info.task == "regression" else "decision surface"
    fig.suptitle(f"{rec.title()}: {what} during training")
    return fig


@styled
def gif_frames(rec: SnapshotRecorder, max_frames: int = MAX_FRAMES) -> list[np.ndarray]:
    """The GIF's frames, uint8 [H, W, 3] each: one figure, its surface and title updated."""
    fig = new_figure(5.2, 4.6)
    ax = fig.add_axes((0.14, 0.12, 0.8, 0.74))
    chosen = pick(len(rec.frames), max_frames)
    im = _panel(ax, rec, chosen[0])
    feats = plane_names(rec.info)
    ax.set_xlabel(feats[0])
    ax.set_ylabel(feats[1])
    title = set_title(ax, rec.title())
    canvas = fig.canvas
    assert isinstance(canvas, FigureCanvasAgg)
    out = []
    for i in chosen:
        im.set_data(_frame_image(rec, i)[0])
        title.set_text(f"{rec.title()}\nstep {rec.steps[i]}")
        canvas.draw()
        out.append(np.asarray(canvas.buffer_rgba())[..., :3].copy())
    return out


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
