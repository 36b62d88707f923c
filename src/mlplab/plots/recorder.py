"""The model's surface captured during training: what ``--snapshot_every`` keeps.

``mlplab train --snapshot_every N`` makes ``train`` create a :class:`SnapshotRecorder`,
call :meth:`~SnapshotRecorder.capture` every ``N`` steps, and pass it to
:func:`~mlplab.plots.run_plots.draw_run_plots` at the end, which draws the frames
(:mod:`mlplab.plots.snapshots`: an animated GIF and a grid of snapshots). The
recorder evaluates the model on a fixed grid over the data's plane (a few thousand
points: cheap next to a training step on real data) and keeps only those numbers.

It imports no matplotlib: drawing is :mod:`mlplab.plots.snapshots`' job.

Data that is not 2-D has no plane to draw on: the recorder then captures nothing and
writes nothing, without complaint.
"""

from __future__ import annotations

import copy
import json
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np

from mlplab.data.dataset import Dataset
from mlplab.engines.spec import ModelSpec
from mlplab.plots import surfaces
from mlplab.plots.inputs import DataInfo
from mlplab.plots.labels import display_name, model_label
from mlplab.plots.surfaces import Predict

SNAPSHOT_GRID = 80  # grid points per axis: coarser than the final plot, captured often
MAX_FRAMES = 60  # frames in the GIF; more only make a bigger file of the same story
MAX_POINTS = 500  # training points drawn on each frame
STEM = "boundary_evolution"
SNAPSHOT_FILE = "snapshots.npz"  # in the run's folder: the frames, for `mlplab plot RUN_DIR`


def pick(n: int, k: int) -> list[int]:
    """``k`` evenly spaced indices of ``n`` (all of them if ``n <= k``), last included."""
    if n <= k:
        return list(range(n))
    return sorted({round(float(v)) for v in np.linspace(0, n - 1, k)})


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
    info : DataInfo
        The data's name, task and feature names.
    points_X : ndarray, float64 [n, 2]
        The training points drawn on each frame (at most :data:`MAX_POINTS`), raw.
    points_class : ndarray, int64 [n] or None
        Their classes (None for regression).
    """

    def __init__(
        self,
        data: Dataset,
        spec: ModelSpec,
        grid_size: int = SNAPSHOT_GRID,
        label: str | None = None,
    ) -> None:
        self.info = DataInfo.of(data)
        self.spec: ModelSpec | None = spec  # None once loaded from a file
        self.label = label or model_label({}, spec)
        self.active = surfaces.is_planar(data)
        self.grid = surfaces.make_grid(data, grid_size) if self.active else None
        self.steps: list[int] = []
        self.frames: list[np.ndarray] = []
        self.points_X = np.empty((0, 2))
        self.points_class: np.ndarray | None = None
        if self.active:
            n = len(data.X_train)
            idx = np.unique(np.linspace(0, n - 1, min(MAX_POINTS, n)).astype(int))
            self.points_X = surfaces.raw_inputs(data, data.X_train[idx])
            y = data.y_train[idx]
            if data.task == "binary":
                self.points_class = y[:, 0].astype(np.int64)
            elif data.task == "multiclass":
                self.points_class = y.astype(np.int64)

    def capture(self, step: int, predict: Predict) -> None:
        """Evaluate the model (``predict``, as for surfaces) on the grid; keep it for ``step``."""
        if self.grid is None:
            return
        if self.info.task == "regression":
            frame = surfaces.regression_surface(predict, self.grid).values
        else:
            s = surfaces.class_surface(predict, self.info.task, self.grid)
            frame = s.probs[..., 1] if s.task == "binary" else s.probs
        self.steps.append(int(step))
        self.frames.append(frame.astype(np.float32))

    def surface(self, i: int) -> surfaces.Surface:
        """Snapshot ``i`` as a :class:`~mlplab.plots.surfaces.Surface` (for checks)."""
        assert self.grid is not None
        f = self.frames[i].astype(np.float64)
        if self.info.task == "regression":
            return surfaces.RegressionSurface(self.grid, f)
        if self.info.task == "binary":
            probs = np.stack([1 - f, f], axis=-1)
            return surfaces.ClassSurface(self.grid, probs, (f > 0.5).astype(np.int64), "binary")
        return surfaces.ClassSurface(self.grid, f, f.argmax(axis=-1), "multiclass")

    def title(self) -> str:
        return f"{display_name(self.info.name)} · {self.label}"

    def for_drawing(self) -> SnapshotRecorder:
        """A copy with the frames the pictures show: the GIF's (at most :data:`MAX_FRAMES`).

        A run that snapshots every step keeps thousands of frames, and the pictures
        need at most sixty of them.
        """
        chosen = pick(len(self.frames), MAX_FRAMES)
        out = copy.copy(self)
        out.steps = [self.steps[i] for i in chosen]
        out.frames = [self.frames[i] for i in chosen]
        if self.grid is not None:  # the grid's model inputs are for capturing only
            out.grid = replace(self.grid, model_inputs=self.grid.model_inputs[:0])
        return out

    def save(self, path: str | Path) -> None:
        """Write the frames the pictures show (:meth:`for_drawing`) to ``path`` (.npz).

        What ``mlplab plot RUN_DIR`` redraws the GIF and the grid from (:meth:`load`):
        at most :data:`MAX_FRAMES` frames of the grid (1.5 MB at the default grid).
        """
        from mlplab.runs.atomic import atomic_open

        drawn = self.for_drawing()
        assert drawn.grid is not None and drawn.frames
        meta = {"info": asdict(drawn.info), "label": drawn.label}
        classes = drawn.points_class
        with atomic_open(path, "wb") as f:
            np.savez(
                f,
                steps=np.asarray(drawn.steps, dtype=np.int64),
                frames=np.stack(drawn.frames),
                xx=drawn.grid.xx,
                yy=drawn.grid.yy,
                points_X=drawn.points_X,
                points_class=np.empty(0, np.int64) if classes is None else classes,
                meta=np.asarray(json.dumps(meta)),
            )

    @classmethod
    def load(cls, path: str | Path) -> SnapshotRecorder:
        """The frames :meth:`save` wrote, ready to draw (no model, no data)."""
        with np.load(path, allow_pickle=False) as z:
            meta = json.loads(str(z["meta"]))
            rec = cls.__new__(cls)
            rec.info = DataInfo(**meta["info"])
            rec.spec = None
            rec.label = meta["label"]
            rec.active = True
            rec.grid = surfaces.Grid(z["xx"], z["yy"], np.empty((0, 2)))
            rec.steps = [int(s) for s in z["steps"]]
            rec.frames = list(z["frames"])
            rec.points_X = z["points_X"]
            rec.points_class = None if rec.info.task == "regression" else z["points_class"]
        return rec
