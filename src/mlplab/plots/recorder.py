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

On disk, in the run's folder:

- ``snapshots.npz``, once the run finished: the frames its pictures show (at most
  :data:`MAX_FRAMES`), what ``mlplab plot RUN_DIR`` redraws them from;
- ``snapshot_frames/`` while it trains: at each checkpoint, the frames taken since the
  one before, in a file of their own (``00000120.npz``: frames 120 on, named by how many
  came before them), and ``head.npz`` with what they share (the grid, the points, the
  names). A checkpoint thus writes only its new frames, and the run keeps in memory only
  the frames since its last checkpoint. Its resume takes back the frames up to the
  checkpoint it continues from and removes any later ones; the finished run's
  ``snapshots.npz`` replaces the folder.
"""

from __future__ import annotations

import copy
import itertools
import json
import shutil
from collections.abc import Iterator
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import numpy as np

from mlplab.data.dataset import Dataset
from mlplab.engines.spec import ModelSpec
from mlplab.plots import surfaces
from mlplab.plots.inputs import DataInfo
from mlplab.plots.labels import display_name, model_label
from mlplab.plots.surfaces import Predict
from mlplab.runs.curves import STORED, load_npz

SNAPSHOT_GRID = 80  # grid points per axis: coarser than the final plot, captured often
MAX_FRAMES = 60  # frames in the GIF; more only make a bigger file of the same story
MAX_POINTS = 500  # training points drawn on each frame
STEM = "boundary_evolution"
SNAPSHOT_FILE = "snapshots.npz"  # in the run's folder: the frames, for `mlplab plot RUN_DIR`
FRAMES_DIR = "snapshot_frames"  # in an unfinished run's folder: every frame so far
HEAD = "head.npz"  # in FRAMES_DIR: what its frames share
# What a multiclass frame holds: the class, its probability and its lead in logits over
# the runner-up (older files: the first two, or every class's probability).
MULTICLASS_FRAMES = "class,probability,lead"


def pick(n: int, k: int) -> list[int]:
    """``k`` evenly spaced indices of ``n`` (all of them if ``n <= k``), last included."""
    if n <= k:
        return list(range(n))
    return sorted({round(float(v)) for v in np.linspace(0, n - 1, k)})


def pick_by_change(changes: np.ndarray, k: int) -> list[int]:
    """``k`` indices of ``len(changes) + 1`` frames, evenly spaced in how much they change.

    ``changes[i]`` is how far frame ``i + 1`` is from frame ``i``. The frames are
    chosen at equal steps of the change so far, so that a boundary that moves early
    and then stays gets most of the frames while it moves, not while it rests. The
    first and the last frame are always in; frames that never change fall back to
    :func:`pick` (even steps in time).
    """
    n = len(changes) + 1
    total = float(np.sum(changes))
    if n <= k or not total > 0:
        return pick(n, k)
    so_far = np.concatenate([[0.0], np.cumsum(changes)])
    targets = np.linspace(0.0, total, k - 1, endpoint=False)
    chosen = {int(i) for i in np.searchsorted(so_far, targets, side="left")} | {0, n - 1}
    for i in pick(n, k):  # where few frames carry all the change: fill in time
        if len(chosen) >= k:
            break
        chosen.add(i)
    return sorted(chosen)


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
    steps_per_epoch : int
        Updates in one epoch, so that a frame's title gives its epoch beside its step,
        as the loss plot counts epochs (0: unknown, in files written before it was kept).

    Attributes
    ----------
    steps : list of int
        The updates done before each snapshot (0: the model before training).
    frames : list of ndarray, float32 [G, G] or [G, G, 3]
        P(class 1) (binary); the predicted class, its probability and its lead in logits
        over the runner-up (multiclass; NaN past ``surfaces.MAX_MARGIN_CLASSES``
        classes); or predicted values (regression, first target) at each grid point.
        Only those not yet written to ``store``: ``frames[i]`` is snapshot ``saved + i``.
    store : Path or None
        The run's ``snapshot_frames`` folder, which holds the first ``saved`` frames
        (:meth:`flush`); None while every frame is in memory.
    saved : int
        The frames in ``store``.
    info : DataInfo
        The data's name, task and feature names.
    points_X : ndarray, float64 [n, 2]
        The training points drawn on each frame (at most :data:`MAX_POINTS`), raw.
    points_y : ndarray, float64 [n]
        Regression: their first target (what the colour scale spans); empty otherwise.
    points_class : ndarray, int64 [n] or None
        Their classes (None for regression).
    """

    def __init__(
        self,
        data: Dataset,
        spec: ModelSpec,
        grid_size: int = SNAPSHOT_GRID,
        label: str | None = None,
        steps_per_epoch: int = 0,
    ) -> None:
        self.steps_per_epoch = steps_per_epoch
        self.info = DataInfo.of(data)
        self.spec: ModelSpec | None = spec  # None once loaded from a file
        self.label = label or model_label({}, spec)
        self.active = surfaces.is_planar(data)
        self.grid = surfaces.make_grid(data, grid_size) if self.active else None
        self.steps: list[int] = []
        self.frames: list[np.ndarray] = []
        self.store: Path | None = None
        self.saved = 0
        self.points_X = np.empty((0, 2))
        self.points_class: np.ndarray | None = None
        self.points_y = np.empty(0)
        if self.active:
            n = len(data.X_train)
            idx = np.unique(np.linspace(0, n - 1, min(MAX_POINTS, n)).astype(int))
            self.points_X = data.raw_rows("train")[idx]
            y = data.y_train[idx]
            if data.task == "binary":
                self.points_class = y[:, 0].astype(np.int64)
            elif data.task == "multiclass":
                self.points_class = y.astype(np.int64)
            else:
                self.points_y = np.asarray(y[:, 0], dtype=np.float64)

    def moment(self, i: int) -> str:
        """Frame ``i``'s time: ``step 1500 (epoch 60)``, the step alone where an epoch is
        one step (full batch) or its length unknown."""
        step = self.steps[i]
        if self.steps_per_epoch <= 1:
            return f"step {step}"
        return f"step {step} (epoch {round(step / self.steps_per_epoch, 2):g})"

    def capture(self, step: int, predict: Predict) -> None:
        """Evaluate the model (``predict``, as for surfaces) on the grid; keep it for ``step``."""
        if self.grid is None:
            return
        if self.info.task == "regression":
            frame = surfaces.regression_surface(predict, self.grid).values
        else:
            s = surfaces.class_surface(predict, self.info.task, self.grid)
            frame = s.p1 if s.task == "binary" else np.stack([s.classes, s.confidence, s.lead], -1)
        self.steps.append(int(step))
        self.frames.append(frame.astype(np.float32))

    def surface(self, i: int) -> surfaces.Surface:
        """Snapshot ``i`` as a :class:`~mlplab.plots.surfaces.Surface` (for checks)."""
        assert self.grid is not None
        f = self.frames[i].astype(np.float64)
        if self.info.task == "regression":
            return surfaces.RegressionSurface(self.grid, f)
        if self.info.task == "binary":
            classes = (f > 0.5).astype(np.int64)
            return surfaces.ClassSurface(self.grid, classes, np.maximum(f, 1 - f), "binary", 2)
        n_classes = max(2, len(self.info.class_names or []))
        classes = f[..., 0].astype(np.int64)
        return surfaces.ClassSurface.from_lead(self.grid, classes, f[..., 1], n_classes, f[..., 2])

    def changes(self) -> np.ndarray:
        """How much each frame differs from the one before, float64 [len(frames) - 1].

        The mean absolute change of P(class 1) or of the predicted value per grid point;
        for multiclass, the share of grid points whose class changed plus the mean
        change of its probability.
        """
        out = []
        for a, b in itertools.pairwise(self.each_frame()):  # a file of frames at a time
            if self.info.task == "multiclass":
                moved = float(np.mean(a[..., 0] != b[..., 0]))
                out.append(moved + float(np.mean(np.abs(a[..., 1] - b[..., 1]))))
            else:
                out.append(float(np.mean(np.abs(a.astype(np.float64) - b))))
        return np.asarray(out)

    def each_frame(self) -> Iterator[np.ndarray]:
        """Every frame in order: those in :attr:`store` (a file at a time), then the rest."""
        for path, _ in stored(self.store) if self.store is not None else ():
            with load_npz(path, STORED) as z:
                yield from z["frames"]
        yield from self.frames

    def pick_frames(self, k: int) -> list[int]:
        """``k`` frames, chosen where the surface changes (:func:`pick_by_change`)."""
        return pick_by_change(self.changes(), k)

    def title(self) -> str:
        return f"{display_name(self.info.name)} · {self.label}"

    def for_drawing(self) -> SnapshotRecorder:
        """A copy with the frames the pictures show: the GIF's (at most :data:`MAX_FRAMES`).

        A run that snapshots every step keeps thousands of frames, and the pictures
        need at most sixty of them.
        """
        chosen = self.pick_frames(MAX_FRAMES)
        out = copy.copy(self)
        out.steps = [self.steps[i] for i in chosen]
        wanted = set(chosen)
        # Copies: a frame read from the store is a view of its whole file's frames.
        out.frames = [f.copy() for i, f in enumerate(self.each_frame()) if i in wanted]
        out.store, out.saved = None, 0
        if self.grid is not None:  # the grid's model inputs are for capturing only
            out.grid = replace(self.grid, model_inputs=self.grid.model_inputs[:0])
        return out

    def shared(self) -> dict[str, np.ndarray]:
        """What every frame shares, as the arrays of the files: the grid, the points, the
        names."""
        assert self.grid is not None
        meta: dict[str, Any] = {
            # raw_names only where set: the files of other runs keep their bytes.
            "info": {
                k: v for k, v in asdict(self.info).items() if k != "raw_names" or v is not None
            },
            "label": self.label,
            "frames": MULTICLASS_FRAMES,
            "steps_per_epoch": self.steps_per_epoch,
        }
        classes = self.points_class
        return {
            "xx": self.grid.xx,
            "yy": self.grid.yy,
            "points_X": self.points_X,
            "points_class": np.empty(0, np.int64) if classes is None else classes,
            "points_y": self.points_y,
            "meta": np.asarray(json.dumps(meta)),
        }

    def save(self, path: str | Path) -> None:
        """Write the frames the pictures show (:meth:`for_drawing`) to ``path`` (.npz).

        What ``mlplab plot RUN_DIR`` redraws the GIF and the grid from (:meth:`load`):
        at most :data:`MAX_FRAMES` frames of the grid (1.5 MB at the default grid).
        """
        drawn = self.for_drawing()
        assert drawn.frames
        steps = np.asarray(drawn.steps, dtype=np.int64)
        write_npz(path, {"steps": steps, "frames": np.stack(drawn.frames), **drawn.shared()})

    def flush(self, run_dir: str | Path) -> None:
        """Write the frames not yet written into the run's ``snapshot_frames`` folder, in a
        file of their own, and forget them: memory holds only the frames taken since.

        At each checkpoint, before it: its resume takes them back (:meth:`restore`).
        """
        if not self.frames:
            return
        folder = Path(run_dir) / FRAMES_DIR
        if not (folder / HEAD).is_file():
            write_npz(folder / HEAD, self.shared())
        steps = np.asarray(self.steps[self.saved :], dtype=np.int64)
        write_npz(
            folder / f"{self.saved:08d}.npz", {"steps": steps, "frames": np.stack(self.frames)}
        )
        self.store, self.saved, self.frames = folder, len(self.steps), []
        # An unfinished run's snapshots.npz is an older mlplab's every frame, which a
        # resume took back (:meth:`restore`): they are in the folder now.
        (Path(run_dir) / SNAPSHOT_FILE).unlink(missing_ok=True)

    def restore(self, run_dir: str | Path, before_step: int) -> None:
        """Take back the frames an interrupted run wrote (:meth:`flush`) up to
        ``before_step`` updates, where its resume continues, and remove the later ones;
        none if it wrote none. Raises (ValueError, OSError...) where they are damaged.

        A run that an older mlplab interrupted kept them in ``snapshots.npz``: those are
        taken back into memory, and written at the next checkpoint.
        """
        if self.grid is None:
            return
        folder = Path(run_dir) / FRAMES_DIR
        if not folder.is_dir():
            old = Path(run_dir) / SNAPSHOT_FILE
            if old.is_file():
                saved = SnapshotRecorder.load(old)
                self.steps = [step for step in saved.steps if step <= before_step]
                self.frames = saved.frames[: len(self.steps)]
            return
        for tmp in folder.glob(".*.tmp"):  # writes that a kill cut short
            tmp.unlink(missing_ok=True)
        taken: list[int] = []
        for path, steps in stored(folder):
            keep = [step for step in steps if step <= before_step]
            if not keep:  # past the checkpoint: the resume takes them again
                path.unlink()
            elif len(keep) < len(steps):
                with load_npz(path, STORED) as z:
                    frames = z["frames"][: len(keep)]
                write_npz(path, {"steps": np.asarray(keep, dtype=np.int64), "frames": frames})
            taken += keep
        self.steps, self.frames, self.store, self.saved = taken, [], folder, len(taken)

    def forget(self, run_dir: str | Path) -> None:
        """Drop every frame, in memory and in the run's folder: the film starts again."""
        shutil.rmtree(Path(run_dir) / FRAMES_DIR, ignore_errors=True)
        (Path(run_dir) / SNAPSHOT_FILE).unlink(missing_ok=True)
        self.steps, self.frames, self.store, self.saved = [], [], None, 0

    @classmethod
    def of_run(cls, run_dir: str | Path) -> SnapshotRecorder | None:
        """The frames a run kept, ready to draw: its ``snapshots.npz`` once finished, else
        every frame its checkpoints wrote so far; None if it kept none. Raises where they
        are damaged."""
        if (Path(run_dir) / SNAPSHOT_FILE).is_file():
            return cls.load(Path(run_dir) / SNAPSHOT_FILE)
        folder = Path(run_dir) / FRAMES_DIR
        if not folder.is_dir():
            return None
        with load_npz(folder / HEAD, STORED) as z:
            rec = cls._without_frames(z)
        files = stored(folder)
        rec.steps = [step for _, steps in files for step in steps]
        rec.store, rec.saved, rec.frames = folder, len(rec.steps), []
        return rec if rec.steps else None

    @classmethod
    def _without_frames(cls, z: Any) -> SnapshotRecorder:
        """A recorder with no frames, from the arrays of :meth:`shared` in ``z``."""
        meta = json.loads(str(z["meta"]))
        rec = cls.__new__(cls)
        rec.info = DataInfo(**meta["info"])
        rec.spec = None
        rec.label = meta["label"]
        rec.steps_per_epoch = int(meta.get("steps_per_epoch", 0))
        rec.active = True
        rec.grid = surfaces.Grid(z["xx"], z["yy"], np.empty((0, 2)))
        rec.steps, rec.frames, rec.store, rec.saved = [], [], None, 0
        rec.points_X = z["points_X"]
        rec.points_class = None if rec.info.task == "regression" else z["points_class"]
        rec.points_y = z["points_y"] if "points_y" in z.files else np.empty(0)
        return rec

    @classmethod
    def load(cls, path: str | Path) -> SnapshotRecorder:
        """The frames :meth:`save` wrote, ready to draw (no model, no data)."""
        with load_npz(path, STORED) as z:
            rec = cls._without_frames(z)
            meta = json.loads(str(z["meta"]))
            rec.steps = [int(s) for s in z["steps"]]
            frames = z["frames"]
            if rec.info.task == "multiclass" and "frames" not in meta:
                # Older files kept every class's probability: keep the class, its own, and
                # its lead (log-probabilities differ as the logits do).
                top2 = np.log(np.maximum(np.sort(frames, axis=-1)[..., -2:], 1e-38))
                lead = top2[..., 1] - top2[..., 0]
                frames = np.stack([frames.argmax(axis=-1), frames.max(axis=-1), lead], axis=-1)
            elif rec.info.task == "multiclass" and frames.shape[-1] == 2:  # without the lead
                frames = np.concatenate([frames, np.full_like(frames[..., :1], np.nan)], -1)
            rec.frames = list(frames.astype(np.float32))
        return rec


def stored(folder: Path) -> list[tuple[Path, list[int]]]:
    """The frame files in a ``snapshot_frames`` folder, in order, with their steps.

    Raises ValueError where one is missing: each file's name counts the frames before it.
    """
    out, count = [], 0
    for path in sorted(folder.glob("[0-9]*.npz")):
        if int(path.stem) != count:
            raise ValueError(f"{path.name} follows {count} frames")
        with load_npz(path, STORED) as z:
            steps = [int(s) for s in z["steps"]]
        out.append((path, steps))
        count += len(steps)
    return out


def write_npz(path: str | Path, arrays: dict[str, Any]) -> None:
    """``arrays`` as an .npz at ``path``, atomically (a reader never sees half a file)."""
    from mlplab.runs.atomic import atomic_open

    with atomic_open(path, "wb") as f:
        np.savez(f, **arrays)
