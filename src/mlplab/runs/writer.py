"""The one run writer: each model's record from its stack's events.

:class:`RunWriter` subscribes to :func:`mlplab.training.loop.fit` and writes, for every
model of the stack (a single run is a stack of one), the lectures' record:

- at :class:`~mlplab.training.events.Start`: the folder, ``config.yaml`` and a
  ``result.json`` with ``status: running``;
- at :class:`~mlplab.training.events.Save`: ``checkpoints/last.safetensors`` (and
  ``best`` when it changed), with ``metrics.csv`` keeping pace, then ``result.json``,
  still ``running``, with how far the run got (``epochs_run``, ``steps``, the curves);
- at :class:`~mlplab.training.events.End`: the final checkpoints, ``metrics.csv`` and
  ``result.json``: every setting merged with the curves and the final metrics.

``mlplab train``, sweeps (local or on Ray), and the estimators' ``log_path`` all write
through it. A record names no absolute path, so it can be moved or copied as it is.
"""

from __future__ import annotations

import base64
import math
import os
import random
import shlex
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from mlplab.errors import RecordError, error_line
from mlplab.runs.atomic import link_replace
from mlplab.runs.checkpoint import Checkpoint, save_checkpoint
from mlplab.runs.curves import CURVES_FILE, thinned, write_curves
from mlplab.runs.record import RunRecord, saved_settings
from mlplab.training.events import End, Event, Models, Save, Start
from mlplab.training.loop import LoopState
from mlplab.training.metrics import curve_metric_name


@dataclass
class ModelRecord:
    """What the writer needs of one model: where it goes and what describes it."""

    record: RunRecord
    header: dict[str, Any]  # the settings and run facts that start result.json
    config: Any  # mlplab.config.Config
    fresh: bool = True  # False: a resumed run, whose folder keeps its files
    elapsed_before: float = 0.0  # seconds run before a resume
    best_saved: int = -1  # epoch of the model in best.safetensors (-1: none written)
    last_saved: int = -1  # step of the state in last.safetensors
    curves: dict[str, Any] | None = None  # what curves.npz holds now (write_curves' answer)
    folder: tuple[int, int] | None = None  # the run folder's (device, inode), once opened
    gone: bool = False  # its folder was removed while it trained


def utc_now() -> str:
    """The time now, as a record keeps it (``started_at``, ``finished_at``): ISO 8601 in
    UTC, to the second (``2025-03-01T14:05:09Z``), which sorts as it reads."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def curve_fields(task: str) -> dict[str, str]:
    """result.json's curve names (``train_accs``...) -> the :class:`History` fields."""
    fields = ("train_losses", "val_losses", "val_epochs", "lrs", "train_metrics", "val_metrics")
    return {f.replace("metric", curve_metric_name(task)): f for f in fields}


def curve_lists(state: LoopState, task: str) -> dict[str, list[Any]]:
    """Every point of the curves, by their result.json names, aligned with ``val_epochs``."""
    return {name: getattr(state.history, f) for name, f in curve_fields(task).items()}


def curve_arrays(curves: dict[str, Any], task: str) -> dict[str, np.ndarray]:
    """Curves by :class:`History` field (lists or arrays) -> by result.json name, as arrays."""
    return {
        name: np.asarray(curves[f], dtype=np.int64 if f == "val_epochs" else np.float64)
        for name, f in curve_fields(task).items()
    }


def curves_of(state: LoopState, curves: dict[str, np.ndarray]) -> dict[str, Any]:
    """The loop facts and curves of result.json (partial for a run that did not finish).

    ``curves`` are :func:`curve_arrays`. Curves longer than
    :data:`~mlplab.runs.curves.TEXT_POINTS` are thinned, and ``curves_thinned`` says so and
    names the file that holds every point.
    """
    h = state.history
    shown = thinned(curves)
    out: dict[str, Any] = {
        "epochs_run": state.epoch,
        "steps": state.step,
        "stopped_early": state.stopped_early,
        "best_epoch": h.best_epoch,
        "best_val_loss": h.best_val_loss if math.isfinite(h.best_val_loss) else None,
        **shown,
    }
    points, kept = len(curves["val_epochs"]), len(shown["val_epochs"])
    if kept < points:
        out["curves_thinned"] = {"points": points, "shown": kept, "file": CURVES_FILE}
    return out


def metrics_columns(curves: dict[str, np.ndarray], task: str) -> dict[str, list[Any]]:
    """metrics.csv's columns: a row per validation, thinned as result.json's curves are."""
    metric = curve_metric_name(task)
    c = thinned(curves)
    return {
        "epoch": c["val_epochs"],
        "train_loss": c["train_losses"],
        "lr": c["lrs"],
        "val_loss": c["val_losses"],
        f"train_{metric}": c[f"train_{metric}s"],
        f"val_{metric}": c[f"val_{metric}s"],
    }


def global_rng_state() -> dict[str, Any]:
    """Python's and NumPy's global RNG states, as JSON, each 624-word state as base64 of
    its little-endian uint32 words (3 KB, where a list of numbers took 7 KB).

    mlplab itself draws only from explicit generators, but code around a run may use
    these globals; restoring them makes a resumed run continue exactly as if it had
    never stopped.
    """
    version, internal, gauss = random.getstate()
    name, keys, pos, has_gauss, cached = np.random.get_state(legacy=True)
    words = [
        base64.b64encode(np.asarray(w, dtype="<u4").tobytes()).decode() for w in (internal, keys)
    ]
    return {
        "python": [version, words[0], gauss],
        "numpy": [name, words[1], int(pos), int(has_gauss), float(cached)],
    }


class RunWriter:
    """Writes the run record of every model of a stack, model ``id`` into ``models[id]``.

    ``meta`` holds what every checkpoint of this stack shares (the model spec, the engine,
    the dataset's names and scaler); each checkpoint adds its model's config, run id,
    loop state, optimizer and RNG states, so that it alone rebuilds and resumes the run.
    """

    def __init__(self, models: list[ModelRecord], task: str, meta: dict[str, Any]) -> None:
        self.models = models
        self.task = task
        self.meta = meta
        # Durations on the monotonic clock: a wall clock stepped back (an NTP correction, a
        # resumed VM) made a run's elapsed time negative, and its checkpoint refused.
        self.started = time.monotonic()
        self.results: dict[int, dict[str, Any]] = {}  # id -> the final result.json

    def __call__(self, event: Event) -> None:
        if isinstance(event, Start):
            for k in event.models.ids:
                self._open(int(k), event.models)
        elif isinstance(event, Save):
            for k in event.ids:
                self._check_folder(int(k))
                # best first: a kill between the two leaves a `last` whose best_epoch is
                # the one on disk, or an older `last` (never a best newer than last's).
                # curves.npz before the checkpoints that name its points: a kill between
                # the two leaves a file with more points than the checkpoint, never fewer.
                # result.json last: a kill before it leaves one that lags the checkpoint.
                curves = self._curves(event.models, int(k))
                self._text_and_curves(int(k), curves)
                self._save(int(k), event.models, "best")
                self._save(int(k), event.models, "last")
                self._running(int(k), event.models, curves)
        elif isinstance(event, End):
            # One clock reading for the models that end together: writing each record
            # took longer than training a lab-sized stack, and the last of 8 models
            # stacked in one training seemed to have trained three times as long.
            now = time.monotonic()
            for j, k in enumerate(event.ids):
                self._end(int(k), event, j, now)

    def elapsed(self, k: int, now: float | None = None) -> float:
        return self.models[k].elapsed_before + ((now or time.monotonic()) - self.started)

    # --- the phases of a record -------------------------------------------------------------
    def _open(self, k: int, models: Models) -> None:
        m = self.models[k]
        # When the run was made: a resumed run keeps the start its record says.
        before = None if m.fresh else (m.record.read_result() or {}).get("started_at")
        m.header = {**m.header, "started_at": before if isinstance(before, str) else utc_now()}
        m.record.start(m.config, fresh=m.fresh)
        st = os.stat(m.record.dir)
        m.folder = (st.st_dev, st.st_ino)
        self._running(k, models, self._curves(models, k))

    def _check_folder(self, k: int) -> None:
        """Stop a run whose folder was removed (or replaced) while it trained: it made
        the folder again and wrote a `finished` record without its config.yaml, which no
        later command could read, and a second process, its lock gone with the folder,
        trained the same run beside it."""
        m = self.models[k]
        try:
            st = os.stat(m.record.dir)
            same = m.folder is None or (st.st_dev, st.st_ino) == m.folder
        except OSError:
            same = False
        if not same:
            m.gone = True
            raise RecordError(
                f"{m.record.dir} was removed (or replaced) while its run trained: the run "
                "stopped, and wrote nothing more; the same command trains it again"
            )

    def _running(self, k: int, models: Models, curves: dict[str, np.ndarray]) -> None:
        """result.json of a run in progress: ``running``, with how far it got (at its
        Start and each Save), so that a record killed outright still tells its progress."""
        m = self.models[k]
        state = models.loop_state(k, curves=False)
        m.record.write_result({**m.header, "status": "running", **curves_of(state, curves)})

    def _end(self, k: int, event: End, j: int, now: float) -> None:
        self._check_folder(k)
        m, models, status = self.models[k], event.models, event.statuses[j]
        state = models.loop_state(k, curves=False)
        curves = self._curves(models, k)
        result: dict[str, Any] = {**m.header, "status": status, **curves_of(state, curves)}
        message = event.messages[j]
        if status == "interrupted":
            message = resume_hint(message, m.record.dir)
        if message:
            result["message"] = message
        result.update(event.finals[j])
        result["wall_time_s"] = self.elapsed(k, now)
        result["finished_at"] = utc_now()
        self._text_and_curves(k, curves)
        if status != "diverged":
            self._save(k, models, "last", state)
        self._save(k, models, "best", state)
        m.record.write_result(result)
        self.results[k] = result

    def abort(self, k: int, state: LoopState, err: BaseException) -> None:
        """Record a model that an exception ended: ``interrupted`` for Ctrl-C, else ``failed``.

        No checkpoint is written: the exception may have landed inside a step, with the
        model half updated. The last saved checkpoint stays the place to resume from.
        """
        m = self.models[k]
        if m.gone:  # its folder was removed: nothing is written back into its place
            return
        if isinstance(err, KeyboardInterrupt):
            status = "interrupted"
            have = (m.record.checkpoint_dir / "last.safetensors").is_file()
            error = (
                f"interrupted; resume from the last checkpoint with `{resume_command(m.record.dir)}`"
                if have
                else "interrupted before its first checkpoint; run it again to start over"
            )
        else:
            status, error = "failed", error_line(err)
        curves = curve_arrays(vars(state.history), self.task)
        result = {
            **m.header,
            **curves_of(state, curves),
            "status": status,
            "error": error,
            "wall_time_s": self.elapsed(k),
            "finished_at": utc_now(),
        }
        try:
            m.record.write_result(result)
        except OSError:
            # The full disk that stopped the run may still take a short file, not the
            # curves: how the run ended, so that its record no longer says "running".
            keep = ("epochs_run", "steps", "best_epoch", "best_val_loss", "wall_time_s")
            m.record.write_result(
                {**m.header, "status": status, "error": error} | {key: result[key] for key in keep}
            )
            raise
        self._text_and_curves(k, curves)
        self.results[k] = result

    def _curves(self, models: Models, k: int) -> dict[str, np.ndarray]:
        return curve_arrays(models.curves(k), self.task)

    def _text_and_curves(self, k: int, curves: dict[str, np.ndarray]) -> None:
        """curves.npz and metrics.csv, before the checkpoints that name curves.npz's points."""
        m = self.models[k]
        m.curves = write_curves(m.record.dir, curves)
        m.record.write_metrics(metrics_columns(curves, self.task))

    # --- checkpoints ------------------------------------------------------------------------
    def _save(self, k: int, models: Models, which: str, state: LoopState | None = None) -> None:
        m = self.models[k]
        state = state or models.loop_state(k, curves=False)
        path = m.record.checkpoint_dir / f"{which}.safetensors"
        weights = None
        if which == "best":
            best_epoch = state.history.best_epoch
            if best_epoch == 0 or best_epoch == m.best_saved:
                return  # nothing validated yet, or that best model is already on disk
            m.best_saved = best_epoch
            weights = models.best_weights(k)
            # When the best model is the one `last` has just stored, share its file:
            # creating a file costs ~0.5-0.9 ms of kernel time on ext4, and a sweep of
            # lab-sized runs creates several per run. That holds only at the end of the
            # best epoch: a stop mid-epoch stores a model some steps further on.
            last = m.record.checkpoint_dir / "last.safetensors"
            at_best = best_epoch == state.epoch and state.batch_in_epoch == 0
            if at_best and m.last_saved == state.step and link_replace(last, path):
                return
        ex = models.export(k)
        meta = {
            **self.meta,
            "config": saved_settings(m.config),
            "run_id": m.header["run_id"],
            "loop": state.to_dict(),
            "curves": m.curves,
            "order_rng_now": models.order_state(k),
            "optim": ex.optim_meta,
            "rng": ex.rng_meta,
            "global_rng": global_rng_state(),
            "elapsed_s": self.elapsed(k),
        }
        model = ex.weights if weights is None else weights
        save_checkpoint(path, Checkpoint(model=model, meta=meta, optim=ex.optim, rng=ex.rng))
        if which == "last":
            m.last_saved = state.step


def resume_hint(message: str, run_dir: Path) -> str:
    """An interrupted run's End message with how to continue it: the command or call that
    trained it, run again (a sweep's, a notebook's ``train()``, a page's), continues it,
    as ``mlplab train --resume`` does from a shell."""
    return (
        f"{message}; the same command or call again continues it (or `{resume_command(run_dir)}`)"
    )


def resume_command(run_dir: Path) -> str:
    """``mlplab train --resume RUN_DIR`` to paste into a shell: the folder absolute, so the
    command works from any folder (a relative log_path is relative to where it trained),
    and quoted where it must be (a space, a non-ASCII letter)."""
    return f"mlplab train --resume {shlex.quote(os.path.abspath(run_dir))}"
