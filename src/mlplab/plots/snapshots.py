"""The model's surface captured during training, replayed as an animation.

``mlplab train --snapshot_every N`` makes ``train`` create a :class:`SnapshotRecorder`,
call :meth:`~SnapshotRecorder.capture` every ``N`` steps and
:meth:`~SnapshotRecorder.write` at the end. The recorder evaluates the model on a fixed
grid over the data's plane (a few thousand points: cheap next to a training step on
real data) and keeps only those numbers; drawing waits for the end. It writes:

- ``boundary_evolution.gif``: one frame per snapshot (at most :data:`MAX_FRAMES`,
  evenly spaced, the last one always kept), the step in each frame's title;
- ``boundary_evolution.png`` (or ``.svg``): up to :data:`GRID_PANELS` snapshots side by
  side, the step in each panel's title.

Data that is not 2-D has no plane to draw on: the recorder then captures nothing and
writes nothing, without complaint.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from mlplab.data.dataset import Dataset
from mlplab.engines.backend import Backend
from mlplab.engines.spec import ModelSpec
from mlplab.plots import surfaces
from mlplab.plots.layered import Background, TwoLayerPlot, draw_whole
from mlplab.plots.run_plots import plane_names
from mlplab.plots.style import (
    BINARY_CMAP,
    POINT_BLUE,
    POINT_ORANGE,
    class_colors,
    display_name,
    model_label,
    new_figure,
    save_figure,
    set_title,
    styled,
)

SNAPSHOT_GRID = 80  # grid points per axis: coarser than the final plot, captured often
MAX_FRAMES = 60  # frames in the GIF; more only make a bigger file of the same story
GRID_PANELS = 12  # panels in the PNG grid
FRAME_MS = 120  # display time of one GIF frame; the last one stays 1.5 s
STEM = "boundary_evolution"


class SnapshotRecorder:
    """Keeps the model's surface over the data's plane at chosen training steps.

    Parameters
    ----------
    data : Dataset
        The run's data; only 2-feature data is captured.
    spec : ModelSpec
        The model's architecture (for the label in titles).
    grid_size : int
        Grid points per axis.
    label : str, optional
        The model's label for titles (default: built from ``spec``).

    Attributes
    ----------
    steps : list of int
        The training step of each snapshot.
    frames : list of ndarray, float32 [G, G] or [G, G, C]
        P(class 1) (binary), class probabilities (multiclass) or predicted values
        (regression, first target) at each grid point.
    """

    def __init__(
        self,
        data: Dataset,
        spec: ModelSpec,
        grid_size: int = SNAPSHOT_GRID,
        label: str | None = None,
    ) -> None:
        self.data = data
        self.spec = spec
        self.label = label or model_label({}, spec)
        self.active = surfaces.is_planar(data)
        self.grid = surfaces.make_grid(data, grid_size) if self.active else None
        self.steps: list[int] = []
        self.frames: list[np.ndarray] = []

    def capture(self, step: int, backend: Backend) -> None:
        """Evaluate the model on the grid and keep the result for ``step``."""
        if self.grid is None:
            return
        if self.data.task == "regression":
            frame = surfaces.regression_surface(backend, self.grid).values
        else:
            s = surfaces.class_surface(backend, self.data.task, self.grid)
            frame = s.probs[..., 1] if s.task == "binary" else s.probs
        self.steps.append(int(step))
        self.frames.append(frame.astype(np.float32))

    def surface(self, i: int) -> surfaces.Surface:
        """Snapshot ``i`` as a :class:`~mlplab.plots.surfaces.Surface` (for checks)."""
        assert self.grid is not None
        f = self.frames[i].astype(np.float64)
        if self.data.task == "regression":
            return surfaces.RegressionSurface(self.grid, f)
        if self.data.task == "binary":
            probs = np.stack([1 - f, f], axis=-1)
            return surfaces.ClassSurface(self.grid, probs, (f > 0.5).astype(np.int64), "binary")
        return surfaces.ClassSurface(self.grid, f, f.argmax(axis=-1), "multiclass")

    def write(self, plots_dir: str | Path, fmt: str = "png") -> list[str]:
        """Write the GIF and the grid of snapshots; return their names (none if nothing).

        Parameters
        ----------
        plots_dir : path
            Folder to write to (created if missing).
        fmt : {'png', 'svg'}
            Format of the grid; the animation is always a GIF.
        """
        if not self.frames:
            return []
        plots_dir = Path(plots_dir)
        plots_dir.mkdir(parents=True, exist_ok=True)
        gif = f"{STEM}.gif"
        write_gif(self, plots_dir / gif)
        grid_name = f"{STEM}.{fmt}"
        save_figure(grid_figure(self), plots_dir / grid_name, fmt)
        return [gif, grid_name]

    def title(self) -> str:
        return f"{display_name(self.data.name)} · {self.label}"


def pick(n: int, k: int) -> list[int]:
    """``k`` evenly spaced indices of ``n`` (all of them if ``n <= k``), last included."""
    if n <= k:
        return list(range(n))
    return sorted({round(float(v)) for v in np.linspace(0, n - 1, k)})


def _frame_image(rec: SnapshotRecorder, i: int) -> tuple[np.ndarray, dict[str, Any]]:
    """The image array and ``imshow`` keywords of snapshot ``i``."""
    f = rec.frames[i]
    if rec.data.task == "binary":
        return f, {"cmap": BINARY_CMAP, "vmin": 0.0, "vmax": 1.0}
    if rec.data.task == "multiclass":
        s = rec.surface(i)
        assert isinstance(s, surfaces.ClassSurface)
        return surfaces.class_rgba(s, class_colors(f.shape[-1])), {}
    lo = min(float(np.min(x)) for x in rec.frames)
    hi = max(float(np.max(x)) for x in rec.frames)
    return f, {"cmap": "viridis", "vmin": lo, "vmax": hi}


def _draw_points(ax: Any, data: Dataset) -> None:
    """The training points (at most 500), coloured by class or by y."""
    idx = np.unique(np.linspace(0, len(data.X_train) - 1, min(500, len(data.X_train))).astype(int))
    X = surfaces.raw_inputs(data, data.X_train[idx])
    size = float(np.clip(2000.0 / len(idx), 6.0, 90.0))
    if data.task == "regression":
        ax.scatter(X[:, 0], X[:, 1], c="k", s=size / 3, alpha=0.4)
        return
    y = data.y_train[idx]
    cls = y[:, 0].astype(int) if data.task == "binary" else y.astype(int)
    colors = (
        [POINT_BLUE, POINT_ORANGE] if data.task == "binary" else class_colors(int(cls.max()) + 1)
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
    _draw_points(ax, rec.data)
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
    feats = plane_names(rec.data)
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
    what = "predicted value" if rec.data.task == "regression" else "decision surface"
    fig.suptitle(f"{rec.title()}: {what} during training")
    return fig


class _Frame(TwoLayerPlot):
    """One GIF frame: the surface, the points on it and the title change; the rest stays."""

    def __init__(self, fig: Figure, ax: Any, image: Any, title: Any) -> None:
        self.fig, self.ax, self.image, self.title = fig, ax, image, title

    def top_layer(self) -> list[Any]:
        spines = [s for s in self.ax.spines.values() if s.get_visible()]
        return [self.image, *self.ax.collections, self.title, *spines]


@styled
def gif_frames(rec: SnapshotRecorder, max_frames: int = MAX_FRAMES) -> list[np.ndarray]:
    """The GIF's frames, uint8 [H, W, 3] each: one figure, its image updated per frame.

    The axes, ticks and labels are drawn once, as a background
    (:mod:`mlplab.plots.layered`); each frame draws only the surface, the points on it
    and its title over them: the same pixels as drawing each frame whole, in a third of
    the time.
    """
    fig = new_figure(5.2, 4.6)
    ax = fig.add_axes((0.14, 0.12, 0.8, 0.74))
    chosen = pick(len(rec.frames), max_frames)
    im = _panel(ax, rec, chosen[0])
    feats = plane_names(rec.data)
    ax.set_xlabel(feats[0])
    ax.set_ylabel(feats[1])
    frame = _Frame(fig, ax, im, set_title(ax, rec.title()))
    background: Background | None = None
    out = []
    for i in chosen:
        img, _ = _frame_image(rec, i)
        im.set_data(img)
        frame.title.set_text(f"{rec.title()}\nstep {rec.steps[i]}")
        background = background or Background(frame)
        if not background.finish(frame):  # the layout is fixed: not expected
            draw_whole(frame)
        out.append(np.asarray(fig.canvas.buffer_rgba())[..., :3].copy())
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
